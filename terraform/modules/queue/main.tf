# The job queue of the SQS driver (DESIGN: "queue driver (BullMQ | SQS) — message = job id,
# never the payload") and its dead-letter queue. Both are encrypted at rest; receives use
# long polling.

locals {
  use_kms = var.kms_master_key_id != null
}

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name_prefix}-jobs-dlq"
  message_retention_seconds = var.dlq_message_retention_seconds
  receive_wait_time_seconds = 20

  # Encryption at rest: SSE-SQS unless a KMS key is given (the two are exclusive).
  sqs_managed_sse_enabled           = local.use_kms ? null : true
  kms_master_key_id                 = var.kms_master_key_id
  kms_data_key_reuse_period_seconds = local.use_kms ? var.kms_data_key_reuse_period_seconds : null

  tags = var.tags
}

resource "aws_sqs_queue" "jobs" {
  name                       = "${var.name_prefix}-jobs"
  visibility_timeout_seconds = var.visibility_timeout_seconds
  message_retention_seconds  = var.message_retention_seconds
  # Long polling: a ReceiveMessage waits up to 20 s for a message instead of returning empty.
  receive_wait_time_seconds = 20

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })

  sqs_managed_sse_enabled           = local.use_kms ? null : true
  kms_master_key_id                 = var.kms_master_key_id
  kms_data_key_reuse_period_seconds = local.use_kms ? var.kms_data_key_reuse_period_seconds : null

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.dlq_message_retention_seconds >= var.message_retention_seconds
      error_message = "dlq_message_retention_seconds must be at least message_retention_seconds, or dead-lettered messages expire before anyone can look at them."
    }
  }
}

# Only the jobs queue may use the DLQ as its dead-letter target.
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.jobs.arn]
  })
}
