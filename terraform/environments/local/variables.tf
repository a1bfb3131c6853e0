variable "localstack_endpoint" {
  description = "LocalStack's edge URL as seen by whoever runs terraform: http://localhost:4566 inside the LocalStack container (the init hook) or from the host."
  type        = string
  default     = "http://localhost:4566"

  validation {
    condition     = can(regex("^https?://[^/]+$", var.localstack_endpoint))
    error_message = "localstack_endpoint must be an http(s) origin without a path, e.g. http://localhost:4566."
  }
}

variable "app_endpoint_url" {
  description = "LocalStack's URL as the app containers reach it (the app's AWS_ENDPOINT_URL): the compose service name."
  type        = string
  default     = "http://localstack:4566"

  validation {
    condition     = can(regex("^https?://[^/]+$", var.app_endpoint_url))
    error_message = "app_endpoint_url must be an http(s) origin without a path."
  }
}

variable "region" {
  description = "Region LocalStack emulates (the app's AWS_REGION)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-\\d$", var.region))
    error_message = "region must look like an AWS region, e.g. us-east-1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name. scripts/localstack/app-sqs.env hard-codes the names that follow from the default."
  type        = string
  default     = "zixly-local"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,40}$", var.name_prefix))
    error_message = "name_prefix must be 2-41 characters of lowercase letters, digits and '-'."
  }
}

variable "results_expiration_days" {
  description = "Days after which job results in the bucket expire."
  type        = number
  default     = 7

  validation {
    condition     = var.results_expiration_days >= 1
    error_message = "results_expiration_days must be at least 1."
  }
}

variable "secret_values" {
  description = "Content of the app secret (ZIXLY_ENCRYPTION_KEY, ZIXLY_ADMIN_TOKEN, OAuth client secrets), as a map. No default: scripts/localstack/init-aws.sh builds it from the variables compose gives the LocalStack container (your .env), as TF_VAR_secret_values."
  type        = map(string)
  sensitive   = true
}
