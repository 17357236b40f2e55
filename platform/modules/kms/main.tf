data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  # Key policies need Resource "*" (it means "this key"); every statement is scoped by principal
  # and, for services, by encryption context or calling service.
  key_statements = [
    {
      Sid       = "AccountAdministersKeyThroughIam"
      Effect    = "Allow"
      Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    },
    {
      Sid       = "CloudWatchLogsOfThisAccount"
      Effect    = "Allow"
      Principal = { Service = "logs.${local.region}.amazonaws.com" }
      Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
      Resource  = "*"
      Condition = {
        ArnLike = {
          "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"
        }
      }
    },
  ]

  consumer_statements = [
    {
      Sid       = "ConsumerAccountsReadArtifactsThroughS3AndSageMaker"
      Effect    = "Allow"
      Principal = { AWS = [for id in var.consumer_account_ids : "arn:${local.partition}:iam::${id}:root"] }
      Action    = ["kms:Decrypt", "kms:DescribeKey"]
      Resource  = "*"
      Condition = {
        StringEquals = {
          "kms:ViaService" = [
            "s3.${local.region}.amazonaws.com",
            "sagemaker.${local.region}.amazonaws.com",
          ]
        }
      }
    },
  ]

  key_policy = {
    Version   = "2012-10-17"
    Statement = concat(local.key_statements, [for st in local.consumer_statements : st if length(var.consumer_account_ids) > 0])
  }
}

resource "aws_kms_key" "this" {
  description             = var.description
  enable_key_rotation     = true
  rotation_period_in_days = var.rotation_period_in_days
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = jsonencode(local.key_policy)
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.alias}"
  target_key_id = aws_kms_key.this.key_id
}
