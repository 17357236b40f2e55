"""`deploy-terraform`: the deploy workflow's Terraform steps, one command each.

`plan` initialises deploy/ on the environment's state (environments/<env>.backend.hcl), records
which package is deployed now (the rollback target) and plans the new one into
<env>.tfplan; `apply` applies exactly that plan; `rollback` plans and applies the package that
was deployed before, after a failed smoke test. Outputs go to $GITHUB_OUTPUT.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from . import release

DEPLOY = Path("deploy")
ENVIRONMENTS = ("preprod", "prod")


class TerraformError(RuntimeError):
    """A Terraform step failed; the message names the command."""


def terraform(args: Sequence[str], capture: bool = False) -> str:
    """Run `terraform -chdir=deploy ARGS`; TerraformError naming the command when it fails."""
    binary = shutil.which("terraform")
    if binary is None:
        raise TerraformError("terraform is not on PATH: install Terraform 1.11 or newer")
    cmd = [binary, f"-chdir={DEPLOY}", *args]
    proc = subprocess.run(cmd, capture_output=capture, text=True, check=False)
    if proc.returncode != 0:
        detail = f": {proc.stderr.strip()[-2000:]}" if capture else ""
        raise TerraformError(f"terraform {' '.join(args)} exited {proc.returncode}{detail}")
    return proc.stdout if capture else ""


def init(environment: str) -> None:
    """Initialise deploy/ on the environment's state in the platform's bucket and lock table."""
    backend = f"-backend-config=environments/{environment}.backend.hcl"
    terraform(["init", "-input=false", "-reconfigure", backend])


def deployed_package() -> str:
    """The package the environment serves now, or "" before the first deploy."""
    try:
        value = terraform(["output", "-raw", "model_package_arn"], capture=True).strip()
    except TerraformError:
        return ""
    # On an empty state Terraform 1.11 exits 0 with a "No outputs found" warning on stdout.
    return value if release.ARN.match(value) else ""


def prepare(environment: str, arn: str) -> list[str]:
    """Build what a plan of `arn` needs: the kind's `build.prepare`, where it has one.

    Returns extra tfvars files (relative to deploy/). The batch kind builds its pipeline
    definition for the package here; the real-time kind needs nothing.
    """
    try:
        build = importlib.import_module(f"{__package__}.build")
    except ModuleNotFoundError:
        return []
    return [str(f) for f in build.prepare(environment, arn)]


def plan(environment: str, arn: str, extra_var_files: Sequence[str] = ()) -> Path:
    """Plan deploying `arn` to `environment`; return the saved plan."""
    out = Path(f"{environment}.tfplan")
    args = ["plan", "-input=false", f"-var-file=environments/{environment}.tfvars"]
    args += [f"-var-file={f}" for f in [*prepare(environment, arn), *extra_var_files]]
    terraform([*args, f"-var=model_package_arn={arn}", f"-out={out}"])
    return out


def apply(environment: str) -> None:
    """Apply the plan `plan` saved for `environment`, and nothing else."""
    saved = DEPLOY / f"{environment}.tfplan"
    if not saved.is_file():
        raise TerraformError(f"no saved plan {saved}: run deploy-terraform plan first")
    terraform(["apply", "-input=false", saved.name])


def main(argv: list[str] | None = None) -> int:
    """Parse the command; exit 1 with the reason when a step fails."""
    parser = argparse.ArgumentParser(prog="deploy-terraform", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("plan", "apply", "rollback"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--environment", choices=ENVIRONMENTS, required=True)
        cmd.add_argument("--var-file", action="append", default=[], help="extra tfvars files")
    sub.choices["plan"].add_argument("--model-package-arn", required=True)
    sub.choices["rollback"].add_argument("--to", default="", help="the package deployed before")
    args = parser.parse_args(argv)
    project = release.Project.from_settings()
    try:
        if args.command == "plan":
            release.check_arn(args.model_package_arn, project)
            init(args.environment)
            previous = deployed_package()
            plan(args.environment, args.model_package_arn, args.var_file)
            release.write_outputs({"previous": previous})
        elif args.command == "apply":
            apply(args.environment)
        else:
            if not args.to:
                raise TerraformError(
                    f"nothing to roll back to in {args.environment}: this was its first model; "
                    "deploy a known good package with a manual run"
                )
            release.check_arn(args.to, project)
            init(args.environment)
            plan(args.environment, args.to, args.var_file)
            apply(args.environment)
            print(f"rolled {args.environment} back to {args.to}")
    except (RuntimeError, ValueError) as failed:  # TerraformError, ReleaseError, build errors
        print(f"::error::{failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
