variables {
  environments_json = jsonencode({
    accounts = { dev = "111111111111", preprod = "222222222222", prod = "333333333333" }
    environments = {
      dev     = { vpc_cidr = "10.80.0.0/16", user_profiles = { alice = "data_scientist" } }
      preprod = { vpc_cidr = "10.81.0.0/16" }
      prod    = { vpc_cidr = "10.82.0.0/16" }
    }
  })
}

run "a_valid_map_passes_unchanged" {
  command = plan

  assert {
    condition     = output.config.accounts.prod == "333333333333"
    error_message = "the validated map must be passed through unchanged"
  }
}

run "an_unquoted_account_id_fails" {
  command = plan
  variables {
    environments_json = jsonencode({
      accounts     = { dev = 111111111111, preprod = "222222222222", prod = "333333333333" }
      environments = { dev = { vpc_cidr = "10.80.0.0/16" }, preprod = { vpc_cidr = "10.81.0.0/16" }, prod = { vpc_cidr = "10.82.0.0/16" } }
    })
  }
  expect_failures = [output.config]
}

run "an_unknown_environment_fails" {
  command = plan
  variables {
    environments_json = jsonencode({
      accounts     = { dev = "111111111111", preprod = "222222222222", prod = "333333333333", qa = "444444444444" }
      environments = { dev = { vpc_cidr = "10.80.0.0/16" }, preprod = { vpc_cidr = "10.81.0.0/16" }, prod = { vpc_cidr = "10.82.0.0/16" } }
    })
  }
  expect_failures = [output.config]
}

run "overlapping_cidrs_fail" {
  command = plan
  variables {
    environments_json = jsonencode({
      accounts     = { dev = "111111111111", preprod = "222222222222", prod = "333333333333" }
      environments = { dev = { vpc_cidr = "10.80.0.0/16" }, preprod = { vpc_cidr = "10.80.128.0/17" }, prod = { vpc_cidr = "10.82.0.0/16" } }
    })
  }
  expect_failures = [output.config]
}

run "an_unknown_persona_fails" {
  command = plan
  variables {
    environments_json = jsonencode({
      accounts = { dev = "111111111111", preprod = "222222222222", prod = "333333333333" }
      environments = {
        dev     = { vpc_cidr = "10.80.0.0/16", user_profiles = { mallory = "admin" } }
        preprod = { vpc_cidr = "10.81.0.0/16" }
        prod    = { vpc_cidr = "10.82.0.0/16" }
      }
    })
  }
  expect_failures = [output.config]
}
