terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }

  # State holds resource ids (and, with manage_secret_version, the secret's value): keep it in
  # an encrypted, locked remote backend. Example (S3 native locking needs terraform >= 1.10):
  #
  # backend "s3" {
  #   bucket       = "my-company-terraform-state"
  #   key          = "zixly/prod/terraform.tfstate"
  #   region       = "eu-west-1"
  #   encrypt      = true
  #   use_lockfile = true
  # }
}
