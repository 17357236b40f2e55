# tflint for the platform's Terraform: the AWS ruleset, pinned. Run with `nox -s tflint`
# (tflint's container through python-on-whales; see docs/platform-guide.md).
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

plugin "aws" {
  enabled = true
  version = "0.38.0"
  source  = "github.com/terraform-linters/tflint-ruleset-aws"
}
