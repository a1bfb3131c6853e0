output "queue_url" {
  description = "URL of the jobs queue (the app's SQS_QUEUE_URL)."
  value       = aws_sqs_queue.jobs.url
}

output "queue_arn" {
  description = "ARN of the jobs queue (for IAM policies)."
  value       = aws_sqs_queue.jobs.arn
}

output "queue_name" {
  description = "Name of the jobs queue."
  value       = aws_sqs_queue.jobs.name
}

output "dlq_url" {
  description = "URL of the dead-letter queue (the app's SQS_DLQ_URL)."
  value       = aws_sqs_queue.dlq.url
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}
