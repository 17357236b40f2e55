# Thin root: everything comes from ../environments.json and the environment module; the three
# roots differ only in terraform.tfvars.
terraform {
  required_version = ">= 1.11, < 2.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100.0"
    }
  }

  # Partial configuration: bucket, key, region and lock table come from the bootstrap stack's
  # outputs at init (see docs/platform-guide.md).
  backend "s3" {}
}

locals {
  config = module.config.config
  values = local.config.environments[var.environment]
}

# Fails the plan, naming the key and the fix, on any bad value in environments.json.
module "config" {
  source = "../../modules/config"

  environments_json = file("${path.module}/../environments.json")
}

provider "aws" {
  region = local.config.region
  # A plan with credentials for any other account fails before touching anything.
  allowed_account_ids = [local.config.accounts[var.environment]]

  default_tags {
    tags = {
      "mlops-suite:platform" = "true"
    }
  }
}

module "platform" {
  source = "../../modules/environment"

  environment               = var.environment
  region                    = local.config.region
  account_ids               = local.config.accounts
  github_org                = local.config.github_org
  github_prod_reviewer_team = local.config.github_prod_reviewer_team
  suite_release             = local.config.suite_release
  suite_git_url             = try(local.config.suite_git_url, null)
  vpc_cidr                  = local.values.vpc_cidr
  user_profiles             = try(local.values.user_profiles, {})
  lambda_artifact_path      = var.lambda_artifact_path
}
