locals {
  # The one list of shared names; the Lambdas and the project templates read the same file.
  names = jsondecode(file("${path.module}/../../../src/mlops_suite/names.json"))
}

resource "aws_ssm_parameter" "this" {
  # checkov:skip=CKV2_AWS_34: These are resource names and ARNs, not secrets; CloudFormation's AWS::SSM::Parameter::Value<String> parameters cannot read SecureString.
  for_each = var.values

  name        = local.names.ssm_parameters[each.key]
  description = "mlops-suite shared name ${each.key} (src/mlops_suite/names.json)"
  type        = "String"
  tier        = "Standard"
  value       = each.value
  tags        = var.tags
}

resource "aws_ssm_parameter" "list" {
  # checkov:skip=CKV2_AWS_34: Subnet and security group ids are not secrets; CloudFormation List<> parameters cannot read SecureString.
  for_each = var.list_values

  name        = local.names.ssm_parameters[each.key]
  description = "mlops-suite shared name ${each.key} (src/mlops_suite/names.json)"
  type        = "StringList"
  tier        = "Standard"
  value       = join(",", each.value)
  tags        = var.tags
}
