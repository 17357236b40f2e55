output "vpc_id" {
  description = "Id of the VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "Ids of the private subnets, one per availability zone, in the order given."
  value       = [for az in var.availability_zones : aws_subnet.private[az].id]
}

output "private_route_table_ids" {
  description = "Ids of the private route tables (the S3 gateway endpoint is attached to each)."
  value       = [for az in var.availability_zones : aws_route_table.private[az].id]
}

output "workloads_security_group_id" {
  description = "Security group for Studio, SageMaker jobs and the Lambdas."
  value       = aws_security_group.workloads.id
}

output "endpoints_security_group_id" {
  description = "Security group of the interface endpoints."
  value       = aws_security_group.endpoints.id
}

output "s3_gateway_endpoint_id" {
  description = "Id of the S3 gateway endpoint."
  value       = aws_vpc_endpoint.s3.id
}

output "flow_log_group_name" {
  description = "CloudWatch log group that receives the VPC flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}

output "egress_subnet_ids" {
  description = "Ids of the egress subnets (route to the internet through NAT) for the platform Lambdas; empty unless egress_subnets."
  value       = [for az in var.availability_zones : aws_subnet.egress[az].id if var.egress_subnets]
}

output "egress_security_group_id" {
  description = "Security group for the platform Lambdas (outbound HTTPS only); null unless egress_subnets."
  value       = one(aws_security_group.egress[*].id)
}

output "sagemaker_has_internet_route" {
  description = "Whether the SageMaker subnets have a default route to the internet (only with allow_internet_egress)."
  value       = length(aws_route.private_internet) > 0
}
