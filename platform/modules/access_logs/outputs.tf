output "bucket_name" {
  description = "Name of the access-log bucket (target of S3 server access logging)."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the access-log bucket."
  value       = aws_s3_bucket.this.arn
}
