variable "name_prefix" {
  description = "Prefix of the queue names: the jobs queue is \"<prefix>-jobs\", its dead-letter queue \"<prefix>-jobs-dlq\"."
  type        = string

  validation {
    # SQS names are at most 80 characters of [A-Za-z0-9_-]; the longest suffix added here is "-jobs-dlq" (9).
    condition     = can(regex("^[A-Za-z0-9_-]{1,71}$", var.name_prefix))
    error_message = "name_prefix must be 1-71 characters of letters, digits, '-' or '_'."
  }
}

variable "visibility_timeout_seconds" {
  description = "How long a received job id stays invisible to other workers. The worker extends it while a job runs (DESIGN: SQS visibility extension), so this is the lease a crashed worker's message waits before it comes back."
  type        = number
  default     = 300

  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200 && floor(var.visibility_timeout_seconds) == var.visibility_timeout_seconds
    error_message = "visibility_timeout_seconds must be a whole number between 0 and 43200 (12 hours)."
  }
}

variable "message_retention_seconds" {
  description = "How long SQS keeps an undelivered job message in the jobs queue."
  type        = number
  default     = 345600 # 4 days

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600 && floor(var.message_retention_seconds) == var.message_retention_seconds
    error_message = "message_retention_seconds must be a whole number between 60 and 1209600 (14 days)."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long the dead-letter queue keeps messages. Must not be shorter than message_retention_seconds: a message keeps its original enqueue time when it is moved to the DLQ."
  type        = number
  default     = 1209600 # 14 days, the SQS maximum

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600 && floor(var.dlq_message_retention_seconds) == var.dlq_message_retention_seconds
    error_message = "dlq_message_retention_seconds must be a whole number between 60 and 1209600 (14 days)."
  }
}

variable "max_receive_count" {
  description = "Receives after which SQS moves a message to the dead-letter queue (redrive policy). Keep it above the largest workflow attempt limit so the app, not SQS, decides when a job has failed."
  type        = number
  default     = 10

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be a whole number between 1 and 1000."
  }
}

variable "kms_master_key_id" {
  description = "KMS key (id, ARN or alias) for server-side encryption of both queues. null = SQS-managed encryption (SSE-SQS)."
  type        = string
  default     = null
}

variable "kms_data_key_reuse_period_seconds" {
  description = "How long SQS reuses a data key before calling KMS again (only with kms_master_key_id)."
  type        = number
  default     = 300

  validation {
    condition     = var.kms_data_key_reuse_period_seconds >= 60 && var.kms_data_key_reuse_period_seconds <= 86400
    error_message = "kms_data_key_reuse_period_seconds must be between 60 and 86400."
  }
}

variable "tags" {
  description = "Tags added to both queues."
  type        = map(string)
  default     = {}
}
