data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
  azs       = { for i, az in var.availability_zones : az => i }
  nat       = var.allow_internet_egress || var.egress_subnets

  flow_log_group_arn = "arn:${local.partition}:logs:${local.region}:${data.aws_caller_identity.current.account_id}:log-group:/mlops-suite/vpc-flow-logs/${var.name}"

  flow_logs_trust = {
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  }

  flow_logs_policy = {
    Version = "2012-10-17"
    Statement = [{
      Sid      = "WriteOwnFlowLogGroup"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      Resource = [local.flow_log_group_arn, "${local.flow_log_group_arn}:*"]
    }]
  }
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(var.tags, { Name = var.name })
}

# Adopt the default security group and strip its rules, so nothing lands in an open group.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-default-unused" })
}

resource "aws_subnet" "private" {
  for_each = local.azs

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.key
  cidr_block              = cidrsubnet(var.cidr_block, 3, each.value)
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${var.name}-private-${each.key}", Tier = "private" })
}

resource "aws_route_table" "private" {
  for_each = local.azs

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-private-${each.key}" })
}

resource "aws_route_table_association" "private" {
  for_each = local.azs

  subnet_id      = aws_subnet.private[each.key].id
  route_table_id = aws_route_table.private[each.key].id
}

# The S3 gateway endpoint only works when attached to the route tables the subnets use.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [for rt in aws_route_table.private : rt.id]
  tags              = merge(var.tags, { Name = "${var.name}-s3" })
}

resource "aws_security_group" "endpoints" {
  name        = "${var.name}-endpoints"
  description = "Interface VPC endpoints: HTTPS from inside the VPC only"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name}-endpoints" })
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  security_group_id = aws_security_group.endpoints.id
  description       = "HTTPS from the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.cidr_block
}

resource "aws_vpc_endpoint" "interface" {
  for_each = toset(var.interface_endpoints)

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${local.region}.${each.value}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = [for s in aws_subnet.private : s.id]
  security_group_ids  = [aws_security_group.endpoints.id]
  tags                = merge(var.tags, { Name = "${var.name}-${each.value}" })
}

# Studio apps, training and processing jobs and the Lambdas run in this group.
resource "aws_security_group" "workloads" {
  # checkov:skip=CKV2_AWS_5: Attached outside this module (Studio domain, SageMaker jobs, Lambdas), which checkov cannot follow.
  name        = "${var.name}-workloads"
  description = "SageMaker Studio, jobs and platform Lambdas"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name}-workloads" })
}

resource "aws_vpc_security_group_ingress_rule" "workloads_self" {
  security_group_id            = aws_security_group.workloads.id
  description                  = "Studio EFS (NFS) and distributed training between members of this group"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.workloads.id
}

resource "aws_vpc_security_group_egress_rule" "workloads_self" {
  security_group_id            = aws_security_group.workloads.id
  description                  = "Studio EFS (NFS) and distributed training between members of this group"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.workloads.id
}

resource "aws_vpc_security_group_egress_rule" "workloads_endpoints" {
  security_group_id            = aws_security_group.workloads.id
  description                  = "HTTPS to the interface endpoints"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoints.id
}

resource "aws_vpc_security_group_egress_rule" "workloads_s3" {
  security_group_id = aws_security_group.workloads.id
  description       = "HTTPS to S3 through the gateway endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
}

resource "aws_vpc_security_group_egress_rule" "workloads_internet" {
  count = var.allow_internet_egress ? 1 : 0

  security_group_id = aws_security_group.workloads.id
  description       = "HTTPS to the internet through NAT (opted in with allow_internet_egress)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# Internet egress is opt-in: a public subnet with a NAT gateway, used by the egress subnets (the
# Lambdas that call GitHub) and, only with allow_internet_egress, by the SageMaker subnets.
# Nothing here exists unless one of the two is requested.
resource "aws_subnet" "public" {
  count = local.nat ? 1 : 0

  vpc_id                  = aws_vpc.this.id
  availability_zone       = var.availability_zones[0]
  cidr_block              = cidrsubnet(var.cidr_block, 3, 7)
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${var.name}-public-nat", Tier = "public" })
}

resource "aws_internet_gateway" "this" {
  count = local.nat ? 1 : 0

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = var.name })
}

resource "aws_route_table" "public" {
  count = local.nat ? 1 : 0

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet" {
  count = local.nat ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_route_table_association" "public" {
  count = local.nat ? 1 : 0

  subnet_id      = aws_subnet.public[0].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  # checkov:skip=CKV2_AWS_19: The address belongs to the NAT gateway below, which checkov does not count as an attachment.
  count = local.nat ? 1 : 0

  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name}-nat" })
}

resource "aws_nat_gateway" "this" {
  count = local.nat ? 1 : 0

  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public[0].id
  tags          = merge(var.tags, { Name = var.name })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route" "private_internet" {
  for_each = var.allow_internet_egress ? local.azs : {}

  route_table_id         = aws_route_table.private[each.key].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[0].id
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/mlops-suite/vpc-flow-logs/${var.name}"
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_iam_role" "flow_logs" {
  permissions_boundary = var.permissions_boundary_arn
  name_prefix          = "${substr(var.name, 0, 24)}-flowlogs-"
  assume_role_policy   = jsonencode(local.flow_logs_trust)
  tags                 = var.tags
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = jsonencode(local.flow_logs_policy)
}

resource "aws_flow_log" "this" {
  vpc_id               = aws_vpc.this.id
  traffic_type         = "ALL"
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn         = aws_iam_role.flow_logs.arn
  tags                 = var.tags
}

resource "aws_subnet" "egress" {
  for_each = var.egress_subnets ? local.azs : {}

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.key
  cidr_block              = cidrsubnet(var.cidr_block, 5, 16 + each.value)
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${var.name}-egress-${each.key}", Tier = "egress" })
}

resource "aws_route_table" "egress" {
  for_each = var.egress_subnets ? local.azs : {}

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-egress-${each.key}" })
}

resource "aws_route_table_association" "egress" {
  for_each = var.egress_subnets ? local.azs : {}

  subnet_id      = aws_subnet.egress[each.key].id
  route_table_id = aws_route_table.egress[each.key].id
}

resource "aws_route" "egress_internet" {
  for_each = var.egress_subnets ? local.azs : {}

  route_table_id         = aws_route_table.egress[each.key].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[0].id
}

resource "aws_vpc_endpoint_route_table_association" "egress_s3" {
  for_each = var.egress_subnets ? local.azs : {}

  route_table_id  = aws_route_table.egress[each.key].id
  vpc_endpoint_id = aws_vpc_endpoint.s3.id
}

# The platform Lambdas: HTTPS to AWS endpoints, S3 and (through NAT) GitHub; nothing inbound.
resource "aws_security_group" "egress" {
  # checkov:skip=CKV2_AWS_5: Attached to the platform Lambdas outside this module, which checkov cannot follow.
  count = var.egress_subnets ? 1 : 0

  name        = "${var.name}-egress"
  description = "Platform Lambdas: outbound HTTPS only"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name}-egress" })
}

resource "aws_vpc_security_group_egress_rule" "egress_https" {
  count = var.egress_subnets ? 1 : 0

  security_group_id = aws_security_group.egress[0].id
  description       = "HTTPS to AWS endpoints and GitHub"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
