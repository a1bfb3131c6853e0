output "bucket_name" {
  description = "Name of the results bucket (the app's S3_BUCKET)."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the results bucket (for IAM policies)."
  value       = aws_s3_bucket.this.arn
}

output "results_prefix" {
  description = "Key prefix whose objects expire after results_expiration_days."
  value       = var.results_prefix
}
