output "account_id" {
  description = "Account this environment lives in."
  value       = local.account_id
}

output "kms_key_arn" {
  description = "The platform KMS key."
  value       = module.kms.key_arn
}

output "vpc_id" {
  description = "The platform VPC."
  value       = module.networking.vpc_id
}

output "sagemaker_execution_role_arn" {
  description = "SageMaker execution role for jobs, pipelines and endpoints."
  value       = module.sagemaker_roles.execution_role_arn
}

output "studio_domain_id" {
  description = "Studio domain id (dev only, else null)."
  value       = one(module.sagemaker[*].domain_id)
}

output "lambda_arns" {
  description = "The platform Lambdas (dev only, else empty)."
  value = local.is_dev ? {
    clone_repo     = module.clone_repo_lambda[0].function_arn
    model_approval = module.model_approval_lambda[0].function_arn
  } : {}
}

output "service_catalog_portfolio_id" {
  description = "Portfolio of the project templates (dev only, else null)."
  value       = one(module.service_catalog[*].portfolio_id)
}

output "ssm_parameter_names" {
  description = "Every SSM parameter this environment wrote, keyed by its names.json key."
  value       = module.ssm.parameter_names
}
