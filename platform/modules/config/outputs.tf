output "config" {
  description = "The validated environments.json, decoded."
  value       = local.config

  precondition {
    condition     = length(local.unknown_environments) == 0
    error_message = "environments.json names unknown environment(s) ${join(", ", local.unknown_environments)}: use dev, preprod and prod only."
  }
  precondition {
    condition     = length(local.missing_environments) == 0
    error_message = "environments.json must set accounts.<env> and environments.<env> for dev, preprod and prod; missing for: ${join(", ", local.missing_environments)}."
  }
  precondition {
    condition     = length(local.bad_account_ids) == 0
    error_message = "environments.json ${join(", ", local.bad_account_ids)}: an account id is 12 digits as a quoted string, e.g. \"123456789012\"."
  }
  precondition {
    condition     = length(local.bad_cidrs) == 0
    error_message = "environments.json ${join(", ", local.bad_cidrs)}: use an IPv4 CIDR block such as \"10.80.0.0/16\"."
  }
  precondition {
    condition     = length(local.overlaps) == 0
    error_message = "environments.json VPC CIDRs overlap: ${join(", ", local.overlaps)}; give each environment its own block, e.g. 10.80.0.0/16, 10.81.0.0/16 and 10.82.0.0/16."
  }
  precondition {
    condition     = length(local.bad_personas) == 0
    error_message = "environments.json ${join(", ", local.bad_personas)}: a persona is one of ${join(", ", local.personas)}."
  }
}
