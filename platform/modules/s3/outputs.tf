output "bucket_name" {
  description = "Name of the bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "policy_json" {
  description = "The bucket policy document as applied (TLS-only, KMS key pinning, grants)."
  value       = aws_s3_bucket_policy.this.policy
}
