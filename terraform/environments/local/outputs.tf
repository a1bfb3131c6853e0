# One output per app variable, named after it in lower case, plus app_env: the whole
# configuration of the app's AWS mode as a map (what scripts/localstack/app-sqs.env holds).

output "queue_driver" {
  description = "QUEUE_DRIVER"
  value       = "sqs"
}

output "aws_region" {
  description = "AWS_REGION"
  value       = var.region
}

output "aws_endpoint_url" {
  description = "AWS_ENDPOINT_URL (LocalStack as the app containers reach it)"
  value       = var.app_endpoint_url
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
  description = "SECRETS_MANAGER_SECRET_ID (the name: LocalStack adds a random suffix to the ARN, and the static app-sqs.env cannot know it)"
  value       = module.secrets.secret_name
}

output "app_env" {
  description = "The app's AWS-mode variables, ready to write to an env file."
  value = {
    QUEUE_DRIVER              = "sqs"
    AWS_REGION                = var.region
    AWS_ENDPOINT_URL          = var.app_endpoint_url
    SQS_QUEUE_URL             = module.queue.queue_url
    SQS_DLQ_URL               = module.queue.dlq_url
    S3_BUCKET                 = module.storage.bucket_name
    SECRETS_MANAGER_SECRET_ID = module.secrets.secret_name
  }
}
