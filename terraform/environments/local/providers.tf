# The AWS provider pointed at LocalStack: fixed test credentials (LocalStack's convention,
# not a secret), no calls to STS or the EC2 metadata service, path-style S3 URLs.
provider "aws" {
  region     = var.region
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true

  endpoints {
    sqs            = var.localstack_endpoint
    s3             = var.localstack_endpoint
    secretsmanager = var.localstack_endpoint
  }

  default_tags {
    tags = {
      project     = "zixly"
      environment = "local"
      managed-by  = "terraform"
    }
  }
}
