# One Secrets Manager secret holding the app's secrets as a JSON object keyed by the app's
# variable names: the encryption keys for secrets at rest, the bootstrap admin token and the
# OAuth client secrets of the connectors. No value lives in this repository: either
# terraform writes the version from a sensitive variable given at apply time, or the value
# is put out of band.

resource "aws_secretsmanager_secret" "app" {
  name                    = var.name
  description             = var.description
  kms_key_id              = var.kms_key_id
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "app" {
  count = var.manage_secret_version ? 1 : 0

  secret_id     = aws_secretsmanager_secret.app.id
  secret_string = jsonencode(var.secret_values)

  lifecycle {
    precondition {
      condition     = length(var.secret_values) > 0
      error_message = "manage_secret_version is true but secret_values is empty: pass TF_VAR_secret_values, or set the value out of band."
    }
  }
}
