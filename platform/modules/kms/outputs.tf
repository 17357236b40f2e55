output "key_arn" {
  description = "ARN of the customer-managed key."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "Id of the customer-managed key."
  value       = aws_kms_key.this.key_id
}

output "alias_name" {
  description = "Full alias name, `alias/<alias>`."
  value       = aws_kms_alias.this.name
}

output "consumer_account_ids" {
  description = "Accounts the key policy lets decrypt through S3 and SageMaker."
  value       = var.consumer_account_ids
}
