terraform {
  required_version = ">= 1.11, < 2.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100.0"
    }
  }

  # Partial configuration: environments/<env>.backend.hcl names the platform's state bucket,
  # lock table and state key of this project in that environment's account.
  backend "s3" {}
}

provider "aws" {
  region = var.region
  # Credentials for any other account (a mixed-up environment) fail before anything changes.
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = local.tags
  }
}
