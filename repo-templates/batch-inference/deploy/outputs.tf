output "pipeline_name" {
  description = "Name of the deployed pipeline the smoke test runs."
  value       = aws_sagemaker_pipeline.this.pipeline_name
}

output "model_package_arn" {
  description = "Model package the pipeline's definition serves; the deploy workflow rolls back to it if the next one fails its smoke test."
  value       = var.model_package_arn
}

output "schedule_name" {
  description = "EventBridge Scheduler schedule that starts the pipeline."
  value       = aws_scheduler_schedule.this.name
}
