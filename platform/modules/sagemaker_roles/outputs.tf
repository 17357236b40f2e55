output "execution_role_arn" {
  description = "ARN of the SageMaker execution role for jobs, pipelines and endpoints."
  value       = aws_iam_role.execution.arn
}

output "execution_role_name" {
  description = "Name of the SageMaker execution role."
  value       = aws_iam_role.execution.name
}

output "persona_role_arns" {
  description = "Studio execution role ARN per persona."
  value       = { for k, r in aws_iam_role.persona : k => r.arn }
}

output "registry_read_policy_arn" {
  description = "Managed policy for project deploy roles to read their own packages from the dev registry; null in dev."
  value       = one(aws_iam_policy.registry_read[*].arn)
}

output "permissions_boundary_arn" {
  description = "Boundary applied to every role of this module."
  value       = var.permissions_boundary_arn
}
