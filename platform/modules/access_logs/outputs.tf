output "bucket_name" {
  description = "Name of the access-log bucket (target of S3 server access logging)."
  value       = aws_s3_bucket.this.id

  # S3 refuses a logging target until its policy admits log delivery; consumers wait for it.
  depends_on = [aws_s3_bucket_policy.this]
}

output "bucket_arn" {
  description = "ARN of the access-log bucket."
  value       = aws_s3_bucket.this.arn
}
