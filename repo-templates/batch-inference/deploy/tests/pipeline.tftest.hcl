# Plans against a mock AWS provider: the pipeline, its schedule and the refusals.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }
  mock_resource "aws_sagemaker_pipeline" {
    override_during = plan
    defaults = {
      arn = "arn:aws:sagemaker:eu-west-1:222222222222:pipeline/churn-model-batch-inference-preprod"
    }
  }
  mock_resource "aws_iam_role" {
    override_during = plan
    defaults = {
      arn = "arn:aws:iam::222222222222:role/churn-model-batch-inference-preprod-scheduler"
    }
  }
}

override_data {
  target = data.aws_ssm_parameter.execution_role_arn
  values = { value = "arn:aws:iam::222222222222:role/mlops-suite-sagemaker-execution" }
}

variables {
  environment              = "preprod"
  region                   = "eu-west-1"
  account_id               = "222222222222"
  dev_account_id           = "111111111111"
  project_name             = "churn-model"
  project_id               = "p-abcdef012345"
  model_package_arn        = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn-model-p-abcdef012345/4"
  pipeline_definition_file = "tests/fixtures/definition.json"
  schedule = {
    expression = "cron(0 3 * * ? *)"
  }
}

run "pipeline_from_the_built_definition_on_a_schedule" {
  command = plan

  assert {
    condition     = aws_sagemaker_pipeline.this.pipeline_name == "churn-model-batch-inference-preprod"
    error_message = "pipeline named <project>-batch-inference-<environment>"
  }
  assert {
    condition     = jsondecode(aws_sagemaker_pipeline.this.pipeline_definition).Version == "2020-12-01"
    error_message = "the definition is the built file, unchanged"
  }
  assert {
    condition     = aws_scheduler_schedule.this.schedule_expression == "cron(0 3 * * ? *)" && aws_scheduler_schedule.this.state == "ENABLED"
    error_message = "an enabled schedule with the answered expression"
  }
  assert {
    condition     = one([for p in aws_scheduler_schedule.this.target[0].sagemaker_pipeline_parameters[0].pipeline_parameter : p.value if p.name == "InputDataUrl"]) == "s3://sagemaker-p-abcdef012345-222222222222-eu-west-1/churn-model-batch-inference-preprod/input/"
    error_message = "scheduled runs read the records under the project's bucket in this account"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.scheduler.policy).Statement[0].Action == "sagemaker:StartPipelineExecution"
    error_message = "the scheduler may start this pipeline and do nothing else"
  }
  assert {
    condition     = endswith(aws_iam_role.scheduler.permissions_boundary, ":policy/mlops-suite-scheduler-boundary")
    error_message = "the scheduler role carries the scheduler boundary"
  }
}

run "disabled_schedule" {
  command = plan

  variables {
    schedule = {
      expression = "rate(1 day)"
      enabled    = false
    }
  }

  assert {
    condition     = aws_scheduler_schedule.this.state == "DISABLED"
    error_message = "a disabled schedule"
  }
}

run "missing_definition_is_refused" {
  command = plan

  variables {
    pipeline_definition_file = "build/does-not-exist.json"
  }

  expect_failures = [aws_sagemaker_pipeline.this]
}

run "package_of_another_group_is_refused" {
  command = plan

  variables {
    model_package_arn = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/other-p-zzzzzzzzzzzz/1"
  }

  expect_failures = [aws_sagemaker_pipeline.this]
}

run "bad_schedule_is_refused" {
  command = plan

  variables {
    schedule = {
      expression = "every night"
    }
  }

  expect_failures = [var.schedule]
}
