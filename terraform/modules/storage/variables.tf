variable "bucket_name" {
  description = "Name of the bucket holding large job results and artifacts (the app's S3_BUCKET). Globally unique on AWS."
  type        = string

  validation {
    condition = (
      can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
      && !can(regex("\\.\\.", var.bucket_name))
      && !can(regex("^\\d+\\.\\d+\\.\\d+\\.\\d+$", var.bucket_name))
    )
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 characters of lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, not an IP address."
  }
}

variable "results_prefix" {
  description = "Key prefix under which the app writes job results; objects under it expire after results_expiration_days."
  type        = string
  default     = "results/"

  validation {
    condition     = var.results_prefix == "" || can(regex("^[A-Za-z0-9!_.*'()/-]+/$", var.results_prefix))
    error_message = "results_prefix must be empty (whole bucket) or a key prefix ending in '/'."
  }
}

variable "results_expiration_days" {
  description = "Days after which result objects under results_prefix are deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.results_expiration_days >= 1 && floor(var.results_expiration_days) == var.results_expiration_days
    error_message = "results_expiration_days must be a whole number of days, at least 1."
  }
}

variable "versioning_enabled" {
  description = "Keep previous versions of overwritten or deleted objects."
  type        = bool
  default     = false
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which a previous object version is deleted (only with versioning_enabled)."
  type        = number
  default     = 7

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of days, at least 1."
  }
}

variable "kms_key_arn" {
  description = "KMS key ARN for SSE-KMS encryption. null = SSE-S3 (AES256, S3-managed keys)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:...) or null."
  }
}

variable "require_tls" {
  description = "Attach a bucket policy that denies every request not made over TLS. Turn off only for an emulator reached over plain HTTP (LocalStack)."
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Let terraform destroy the bucket even when it still holds objects (local/throw-away environments only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to the bucket."
  type        = map(string)
  default     = {}
}
