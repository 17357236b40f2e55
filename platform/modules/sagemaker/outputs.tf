output "domain_id" {
  description = "Id of the Studio domain."
  value       = aws_sagemaker_domain.this.id
}

output "domain_arn" {
  description = "ARN of the Studio domain."
  value       = aws_sagemaker_domain.this.arn
}

output "user_profile_arns" {
  description = "ARN per user profile name."
  value       = { for k, p in aws_sagemaker_user_profile.this : k => p.arn }
}
