output "platform" {
  description = "What the platform created in this account (ids and ARNs)."
  value = {
    account_id                   = module.platform.account_id
    kms_key_arn                  = module.platform.kms_key_arn
    vpc_id                       = module.platform.vpc_id
    sagemaker_execution_role_arn = module.platform.sagemaker_execution_role_arn
    studio_domain_id             = module.platform.studio_domain_id
    lambda_arns                  = module.platform.lambda_arns
    service_catalog_portfolio_id = module.platform.service_catalog_portfolio_id
    ssm_parameter_names          = module.platform.ssm_parameter_names
  }
}
