output "secret_arn" {
  description = "ARN of the secret (the app's SECRETS_MANAGER_SECRET_ID; also what IAM policies grant secretsmanager:GetSecretValue on)."
  value       = aws_secretsmanager_secret.app.arn
}

output "secret_name" {
  description = "Name of the secret."
  value       = aws_secretsmanager_secret.app.name
}
