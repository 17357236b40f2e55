variable "environment" {
  type        = string
  description = "Environment of this root (set in terraform.tfvars); validated by the environment module."
}

variable "lambda_artifact_path" {
  type        = string
  description = "Lambda zip built by `nox -s lambda_package` (used in dev)."
  default     = "../../../build/lambda/mlops-suite-lambda.zip"
}
