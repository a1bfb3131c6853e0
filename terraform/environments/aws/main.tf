# The app's AWS mode on a real account: the SQS job queue with its DLQ, the results bucket
# and the app secret. The compute that runs receiver and worker (ECS, EKS, EC2) is not here;
# give it the policy in the app_iam_policy_json output.

data "aws_caller_identity" "current" {}

locals {
  prefix      = "${var.name_prefix}-${var.environment}"
  bucket_name = coalesce(var.bucket_name, "${local.prefix}-results-${data.aws_caller_identity.current.account_id}")
}

module "queue" {
  source = "../../modules/queue"

  name_prefix                = local.prefix
  visibility_timeout_seconds = var.visibility_timeout_seconds
  max_receive_count          = var.max_receive_count
  kms_master_key_id          = var.kms_key_arn
}

module "storage" {
  source = "../../modules/storage"

  bucket_name             = local.bucket_name
  results_expiration_days = var.results_expiration_days
  versioning_enabled      = var.versioning_enabled
  kms_key_arn             = var.kms_key_arn
}

module "secrets" {
  source = "../../modules/secrets"

  name                  = "${var.name_prefix}/${var.environment}/app"
  kms_key_id            = var.kms_key_arn
  manage_secret_version = var.manage_secret_version
  secret_values         = var.secret_values
}
