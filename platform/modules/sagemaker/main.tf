locals {
  # SageMaker Studio lists the S3-based project templates found under this domain tag.
  domain_tags = merge(var.tags, var.project_templates_s3_uri == null ? {} : {
    "sagemaker:projectS3TemplatesLocation" = var.project_templates_s3_uri
  })
}

resource "aws_sagemaker_domain" "this" {
  domain_name             = var.domain_name
  auth_mode               = "IAM"
  app_network_access_type = "VpcOnly"
  vpc_id                  = var.vpc_id
  subnet_ids              = var.subnet_ids
  kms_key_id              = var.kms_key_arn

  default_user_settings {
    execution_role  = var.default_execution_role_arn
    security_groups = var.security_group_ids

    sharing_settings {
      notebook_output_option = "Disabled"
    }
  }

  default_space_settings {
    execution_role  = var.default_execution_role_arn
    security_groups = var.security_group_ids
  }

  domain_settings {
    security_group_ids = var.security_group_ids
  }

  retention_policy {
    home_efs_file_system = "Retain"
  }

  tags = local.domain_tags
}

resource "aws_sagemaker_user_profile" "this" {
  for_each = var.user_profiles

  domain_id         = aws_sagemaker_domain.this.id
  user_profile_name = each.key

  user_settings {
    execution_role  = var.persona_role_arns[each.value]
    security_groups = var.security_group_ids

    sharing_settings {
      notebook_output_option = "Disabled"
    }
  }

  tags = merge(var.tags, { "mlops-suite:persona" = each.value })
}
