output "portfolio_id" {
  description = "Id of the Service Catalog portfolio."
  value       = aws_servicecatalog_portfolio.this.id
}

output "product_ids" {
  description = "Service Catalog product id per template name."
  value       = { for k, p in aws_servicecatalog_product.this : k => p.id }
}

output "templates_bucket_name" {
  description = "Bucket holding the S3-based SageMaker project templates."
  value       = module.bucket.bucket_name
}

output "templates_s3_uri" {
  description = "s3:// location Studio reads the S3-based templates from (tag it on the domain)."
  value       = "s3://${local.bucket_name}/${local.prefix}"
}

output "launch_role_arn" {
  description = "ARN of the project launch role (Service Catalog launch constraint and S3-template launch role)."
  value       = aws_iam_role.launch.arn
}

output "template_names" {
  description = "The template names published (one per project-templates/*.yaml)."
  value       = sort(keys(local.templates))
}

output "project_github_policy_arn" {
  description = "The managed policy every project's GitHub Actions role (environment dev) gets, and nothing else."
  value       = aws_iam_policy.project_github.arn
}
