variable "name" {
  description = "Name of the secret (the app reads it through SECRETS_MANAGER_SECRET_ID), e.g. \"zixly/prod/app\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", var.name))
    error_message = "name must be 1-512 characters of letters, digits and /_+=.@-."
  }
}

variable "description" {
  description = "Description shown in the Secrets Manager console."
  type        = string
  default     = "Zixly application secrets: ZIXLY_ENCRYPTION_KEY (AES-256-GCM keys for secrets at rest), ZIXLY_ADMIN_TOKEN and the OAuth client secrets of the connectors, as one JSON object."
}

variable "kms_key_id" {
  description = "KMS key (id, ARN or alias) that encrypts the secret. null = the account's default key for Secrets Manager (aws/secretsmanager)."
  type        = string
  default     = null
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can still be restored: 0 deletes at once (emulators, throw-away environments), otherwise 7 to 30."
  type        = number
  default     = 30

  validation {
    condition     = var.recovery_window_in_days == 0 || (var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30)
    error_message = "recovery_window_in_days must be 0 or between 7 and 30."
  }
}

variable "manage_secret_version" {
  description = "Whether terraform writes the secret's value from secret_values. false (the default) leaves the value to be set out of band (`aws secretsmanager put-secret-value`), so it never reaches the terraform state."
  type        = bool
  default     = false
}

variable "secret_values" {
  description = "The secret's content when manage_secret_version is true: a map from the app's variable names (ZIXLY_ENCRYPTION_KEY, ZIXLY_ADMIN_TOKEN, XERO_CLIENT_SECRET, HUBSPOT_CLIENT_SECRET, ...) to their values, stored as one JSON object. Pass it from the environment (TF_VAR_secret_values), never from a committed file."
  type        = map(string)
  sensitive   = true
  nullable    = false
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.secret_values) : can(regex("^[A-Z][A-Z0-9_]*$", k))])
    error_message = "secret_values keys must be environment variable names (UPPER_SNAKE_CASE)."
  }

  validation {
    # As the app parses it (packages/core parseEncryptionKeys): `[keyId:]base64(32 bytes)`,
    # newest first, comma-separated during a rotation.
    condition = !contains(keys(var.secret_values), "ZIXLY_ENCRYPTION_KEY") || alltrue([
      for entry in split(",", lookup(var.secret_values, "ZIXLY_ENCRYPTION_KEY", "")) :
      can(regex("^([A-Za-z0-9_-]+:)?[A-Za-z0-9+/]{43}=$", trimspace(entry)))
    ])
    error_message = "secret_values.ZIXLY_ENCRYPTION_KEY must be `keyId:base64(32 bytes)`, comma-separated during a rotation."
  }
}

variable "tags" {
  description = "Tags added to the secret."
  type        = map(string)
  default     = {}
}
