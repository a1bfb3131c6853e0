variable "region" {
  description = "AWS region for every resource (the app's AWS_REGION)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-\\d$", var.region))
    error_message = "region must be an AWS region, e.g. eu-west-1."
  }
}

variable "environment" {
  description = "Environment name (prod, staging, ...); part of every resource name."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,19}$", var.environment))
    error_message = "environment must be 1-20 characters of lowercase letters, digits and '-'."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name; the environment is appended (\"zixly\" → \"zixly-prod-jobs\")."
  type        = string
  default     = "zixly"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,29}$", var.name_prefix))
    error_message = "name_prefix must be 1-30 characters of lowercase letters, digits and '-'."
  }
}

variable "bucket_name" {
  description = "Results bucket name. null = \"<name_prefix>-<environment>-results-<account id>\" (bucket names are global)."
  type        = string
  default     = null
}

variable "visibility_timeout_seconds" {
  description = "SQS visibility timeout of the jobs queue (the lease the worker extends while a job runs)."
  type        = number
  default     = 300
}

variable "max_receive_count" {
  description = "Receives before SQS dead-letters a message; above the largest workflow attempt limit."
  type        = number
  default     = 10
}

variable "results_expiration_days" {
  description = "Days after which job results in the bucket expire."
  type        = number
  default     = 30
}

variable "versioning_enabled" {
  description = "Keep previous versions of result objects."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key ARN for the queues, the bucket and the secret. null = AWS-managed encryption (SSE-SQS, SSE-S3, aws/secretsmanager)."
  type        = string
  default     = null
}

variable "manage_secret_version" {
  description = "Let terraform write the secret's value from secret_values (it then sits in the state). Default false: put it out of band, see docs/aws.md."
  type        = bool
  default     = false
}

variable "secret_values" {
  description = "Secret content when manage_secret_version is true, from TF_VAR_secret_values; never commit it."
  type        = map(string)
  sensitive   = true
  default     = {}
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
