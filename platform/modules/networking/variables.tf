variable "name" {
  type        = string
  description = "Name prefix for the VPC and its parts, e.g. `mlops-suite-dev`."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be 3-41 lowercase letters, digits or '-', starting with a letter, e.g. \"mlops-suite-dev\"."
  }
}

variable "cidr_block" {
  type        = string
  description = "IPv4 CIDR of the VPC (/16 to /24)."
  default     = "10.80.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.cidr_block)) && tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 24
    error_message = "cidr_block must be an IPv4 CIDR between /16 and /24, e.g. \"10.80.0.0/16\"."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zones for the private subnets (at least two), e.g. [\"eu-west-1a\", \"eu-west-1b\"]."

  validation {
    condition     = length(var.availability_zones) >= 2 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must list at least two distinct zones, e.g. [\"eu-west-1a\", \"eu-west-1b\"]."
  }

  validation {
    condition     = alltrue([for az in var.availability_zones : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$", az))])
    error_message = "availability_zones must be zone names like \"eu-west-1a\"."
  }
}

variable "allow_internet_egress" {
  type        = bool
  description = "Opt in to a default route through NAT for the SageMaker subnets; off means Studio and jobs have no route to the internet at all."
  default     = false
}

variable "egress_subnets" {
  type        = bool
  description = "Create separate egress subnets (default route through NAT) for the platform Lambdas that call GitHub; SageMaker subnets stay private."
  default     = false
}

variable "interface_endpoints" {
  type        = list(string)
  description = "Service suffixes of the interface VPC endpoints (com.amazonaws.<region>.<suffix>) that Studio and jobs need without internet."
  default = [
    "sagemaker.api", "sagemaker.runtime", "sagemaker.featurestore-runtime", "servicecatalog",
    "sts", "logs", "monitoring", "ecr.api", "ecr.dkr", "kms", "ssm", "secretsmanager", "lambda",
    "cloudformation", "events",
  ]

  validation {
    condition     = length(var.interface_endpoints) > 0 && alltrue([for s in var.interface_endpoints : can(regex("^[a-z0-9.-]+$", s)) && s != "s3"])
    error_message = "interface_endpoints must be service suffixes such as \"sagemaker.api\"; S3 is always a gateway endpoint and must not be listed."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key that encrypts the flow-log group."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN, e.g. \"arn:aws:kms:eu-west-1:111111111111:key/<uuid>\"."
  }
}

variable "flow_log_retention_days" {
  type        = number
  description = "Retention of VPC flow logs in CloudWatch (at least a year)."
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a CloudWatch retention of at least one year: 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource."
  default     = {}
}

variable "permissions_boundary_arn" {
  type        = string
  description = "Permissions boundary for every role this module creates (the bootstrap stack's boundary policy); null only in tests."
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM policy ARN, e.g. \"arn:aws:iam::111111111111:policy/mlops-suite-platform-boundary\"."
  }
}
