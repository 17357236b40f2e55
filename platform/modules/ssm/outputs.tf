output "parameter_names" {
  description = "Parameter name per names.json key, for every parameter this module wrote."
  value = merge(
    { for k, p in aws_ssm_parameter.this : k => p.name },
    { for k, p in aws_ssm_parameter.list : k => p.name },
  )
}

output "parameter_arns" {
  description = "Parameter ARN per names.json key (for IAM policies that read them)."
  value = merge(
    { for k, p in aws_ssm_parameter.this : k => p.arn },
    { for k, p in aws_ssm_parameter.list : k => p.arn },
  )
}

output "all_names" {
  description = "Every SSM parameter name from names.json, keyed by its key."
  value       = local.names.ssm_parameters
}
