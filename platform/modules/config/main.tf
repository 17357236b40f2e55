# Validates environments.json like typed variables: every bad value fails the plan with a message
# that names its key and the fix (the preconditions on the output below). It creates nothing.
locals {
  environments = ["dev", "preprod", "prod"]
  personas     = ["data_scientist", "ml_engineer", "model_approver"]
  config       = jsondecode(var.environments_json)
  accounts     = local.config.accounts
  settings     = local.config.environments

  unknown_environments = [
    for name in distinct(concat(keys(local.accounts), keys(local.settings))) : "\"${name}\""
    if !contains(local.environments, name)
  ]
  missing_environments = [
    for env in local.environments : env
    if !(can(local.accounts[env]) && can(local.settings[env]))
  ]
  # jsonencode tells a quoted "012345678901" from the number 12345678901 (which loses zeros).
  bad_account_ids = [
    for env, id in local.accounts : "accounts.${env} = ${jsonencode(id)}"
    if !can(regex("^\"[0-9]{12}\"$", jsonencode(id)))
  ]
  bad_cidrs = [
    for env, values in local.settings : "environments.${env}.vpc_cidr = ${jsonencode(try(values.vpc_cidr, null))}"
    if !can(cidrnetmask(values.vpc_cidr))
  ]
  cidrs = {
    for env, values in local.settings : env => values.vpc_cidr if can(cidrnetmask(values.vpc_cidr))
  }
  # Two blocks overlap when either one's first address lies inside the other.
  cidr_envs = sort(keys(local.cidrs))
  overlaps = distinct(flatten([
    for i, a in local.cidr_envs : [
      for j, b in local.cidr_envs : "environments.${a}.vpc_cidr ${local.cidrs[a]} and environments.${b}.vpc_cidr ${local.cidrs[b]}"
      if i < j && (
        cidrsubnet("${cidrhost(local.cidrs[a], 0)}/${split("/", local.cidrs[b])[1]}", 0, 0) == cidrsubnet(local.cidrs[b], 0, 0) ||
        cidrsubnet("${cidrhost(local.cidrs[b], 0)}/${split("/", local.cidrs[a])[1]}", 0, 0) == cidrsubnet(local.cidrs[a], 0, 0)
      )
    ]
  ]))
  bad_personas = flatten([
    for env, values in local.settings : [
      for user, persona in try(values.user_profiles, {}) : "environments.${env}.user_profiles.${user} = ${jsonencode(persona)}"
      if !contains(local.personas, persona)
    ]
  ])
}
