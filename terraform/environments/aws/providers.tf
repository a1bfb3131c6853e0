# The real AWS provider: credentials come from the usual chain (AWS_PROFILE, SSO, an
# instance or task role), never from this repository.
provider "aws" {
  region = var.region

  default_tags {
    tags = merge(
      {
        project     = "zixly"
        environment = var.environment
        managed-by  = "terraform"
      },
      var.tags,
    )
  }
}
