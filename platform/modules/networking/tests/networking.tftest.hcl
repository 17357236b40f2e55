mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111111111111:log-group:/mlops-suite/vpc-flow-logs/mlops-suite-test" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111111111111:role/mlops-suite-test-flowlogs" }
  }
}

variables {
  name               = "mlops-suite-test"
  availability_zones = ["eu-west-1a", "eu-west-1b"]
  kms_key_arn        = "arn:aws:kms:eu-west-1:111111111111:key/abc"
}

run "private_by_default" {
  command = apply

  assert {
    condition     = length(aws_nat_gateway.this) == 0 && length(aws_internet_gateway.this) == 0 && length(aws_route.private_internet) == 0
    error_message = "without opt-in there is no internet gateway, NAT gateway or default route"
  }

  assert {
    condition     = length(aws_vpc_security_group_egress_rule.workloads_internet) == 0
    error_message = "without opt-in workloads may not reach the internet"
  }

  assert {
    condition     = alltrue([for s in aws_subnet.private : !s.map_public_ip_on_launch])
    error_message = "private subnets never assign public IPs"
  }

  assert {
    condition     = toset(aws_vpc_endpoint.s3.route_table_ids) == toset([for rt in aws_route_table.private : rt.id])
    error_message = "the S3 gateway endpoint must be attached to every private route table"
  }

  assert {
    condition     = aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway"
    error_message = "S3 must use a gateway endpoint"
  }

  assert {
    condition     = alltrue([for k in ["sagemaker.api", "sagemaker.runtime", "sts", "logs", "ecr.api", "ecr.dkr", "kms"] : contains(keys(aws_vpc_endpoint.interface), k)])
    error_message = "Studio and jobs need the SageMaker, STS, Logs, ECR and KMS endpoints"
  }

  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : e.private_dns_enabled])
    error_message = "interface endpoints need private DNS so SDK calls resolve to them"
  }

  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL" && aws_cloudwatch_log_group.flow_logs.kms_key_id == var.kms_key_arn
    error_message = "flow logs must capture all traffic into a KMS-encrypted log group"
  }

  assert {
    condition     = aws_cloudwatch_log_group.flow_logs.retention_in_days >= 365
    error_message = "flow logs are kept at least a year"
  }

  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "the default security group must allow nothing"
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.endpoints_https.cidr_ipv4 == var.cidr_block
    error_message = "endpoints accept HTTPS from the VPC only"
  }
}

run "lambda_egress_keeps_sagemaker_private" {
  command = plan

  variables {
    egress_subnets = true
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_route.egress_internet) == 2
    error_message = "egress subnets route to the internet through one NAT gateway"
  }

  assert {
    condition     = length(aws_route.private_internet) == 0 && length(aws_vpc_security_group_egress_rule.workloads_internet) == 0
    error_message = "the SageMaker subnets and group stay without internet when only Lambda egress is on"
  }

  assert {
    condition     = length(aws_vpc_endpoint_route_table_association.egress_s3) == 2
    error_message = "egress subnets reach S3 through the gateway endpoint too"
  }
}

run "internet_egress_is_opt_in" {
  command = plan

  variables {
    allow_internet_egress = true
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_route.private_internet) == 2
    error_message = "opting in adds one NAT gateway and a default route per private route table"
  }
}

run "rejects_single_az" {
  command = plan

  variables {
    availability_zones = ["eu-west-1a"]
  }

  expect_failures = [var.availability_zones]
}

run "rejects_az_typo" {
  command = plan

  variables {
    availability_zones = ["eu-west-1a", "euwest-1b"]
  }

  expect_failures = [var.availability_zones]
}

run "rejects_s3_as_interface_endpoint" {
  command = plan

  variables {
    interface_endpoints = ["s3", "sts"]
  }

  expect_failures = [var.interface_endpoints]
}

run "rejects_short_flow_log_retention" {
  command = plan

  variables {
    flow_log_retention_days = 30
  }

  expect_failures = [var.flow_log_retention_days]
}

run "rejects_bad_cidr" {
  command = plan

  variables {
    cidr_block = "10.0.0.0/8"
  }

  expect_failures = [var.cidr_block]
}
