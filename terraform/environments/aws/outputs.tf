# One output per app variable, named after it in lower case, plus app_env: the whole
# configuration of the app's AWS mode as a map. AWS_ENDPOINT_URL stays unset on real AWS.

output "queue_driver" {
  description = "QUEUE_DRIVER"
  value       = "sqs"
}

output "aws_region" {
  description = "AWS_REGION"
  value       = var.region
}

output "sqs_queue_url" {
  description = "SQS_QUEUE_URL"
  value       = module.queue.queue_url
}

output "sqs_dlq_url" {
  description = "SQS_DLQ_URL"
  value       = module.queue.dlq_url
}

output "s3_bucket" {
  description = "S3_BUCKET"
  value       = module.storage.bucket_name
}

output "secrets_manager_secret_id" {
  description = "SECRETS_MANAGER_SECRET_ID"
  value       = module.secrets.secret_arn
}

output "app_env" {
  description = "The app's AWS-mode variables, ready for a task definition or an env file."
  value = {
    QUEUE_DRIVER              = "sqs"
    AWS_REGION                = var.region
    SQS_QUEUE_URL             = module.queue.queue_url
    SQS_DLQ_URL               = module.queue.dlq_url
    S3_BUCKET                 = module.storage.bucket_name
    SECRETS_MANAGER_SECRET_ID = module.secrets.secret_arn
  }
}

output "app_iam_policy_json" {
  description = "Least-privilege IAM policy for the receiver and worker role: the two queues, the results bucket, the secret (and the KMS key, if any)."
  value = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid    = "JobQueues"
          Effect = "Allow"
          Action = [
            "sqs:SendMessage",
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
          ]
          Resource = [module.queue.queue_arn, module.queue.dlq_arn]
        },
        {
          Sid      = "ResultsBucketList"
          Effect   = "Allow"
          Action   = ["s3:ListBucket"]
          Resource = [module.storage.bucket_arn]
        },
        {
          Sid      = "ResultsObjects"
          Effect   = "Allow"
          Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
          Resource = ["${module.storage.bucket_arn}/*"]
        },
        {
          Sid      = "AppSecret"
          Effect   = "Allow"
          Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
          Resource = [module.secrets.secret_arn]
        },
      ],
      var.kms_key_arn == null ? [] : [
        {
          Sid      = "Kms"
          Effect   = "Allow"
          Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
          Resource = [var.kms_key_arn]
        },
      ],
    )
  })
}
