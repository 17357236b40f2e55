"""Three AWS accounts in one embedded AWS (moto's server on loopback), reached by assumed roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from mlops_suite import names
from mlops_suite.handlers.clone_repo_flow import partition
from mlops_suite.local.aws import EmbeddedAWS

# Not moto's default account (123456789012): a call that forgets to pick an account lands
# nowhere the demo looks, instead of quietly in one of the three.
ACCOUNT_IDS = {"dev": "111111111111", "preprod": "222222222222", "prod": "333333333333"}


@dataclass(frozen=True)
class Credentials:
    """Temporary credentials of one role in one account, as STS hands them out."""

    account: str
    role_arn: str
    access_key_id: str
    secret_access_key: str
    session_token: str

    def env(self) -> dict[str, str]:
        """The environment variables a process (or an in-process Lambda) reads them from."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }


@dataclass
class Accounts:
    """dev, preprod and prod in one moto server; `ids` maps environment to account id."""

    aws: EmbeddedAWS
    ids: dict[str, str]

    @property
    def region(self) -> str:
        return self.aws.region

    def arn(self, env: str, service: str, resource: str, region: str = "") -> str:
        """An ARN in `env`'s account, in the region's partition."""
        return f"arn:{partition(self.region)}:{service}:{region}:{self.ids[env]}:{resource}"

    def role_arn(self, env: str, name: str) -> str:
        return self.arn(env, "iam", f"role/{name}")

    def administrator(self, env: str, service: str) -> Any:
        """A client as the account's administrator: only for the one-time bootstrap stack."""
        client = self.aws.client(service)
        account = self.ids[env]

        def in_account(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account

        client.meta.events.register("before-send", in_account)
        return client

    def assume(
        self, env: str, role_name: str, session: str, via: Credentials | None = None
    ) -> Credentials:
        """Assume `role_name` in `env`'s account (from `via`, else the demo's own identity)."""
        sts = self.client(via, "sts") if via else self.aws.client("sts")
        role = self.role_arn(env, role_name)
        creds = sts.assume_role(RoleArn=role, RoleSessionName=session[:64])["Credentials"]
        found = Credentials(
            self.ids[env],
            role,
            creds["AccessKeyId"],
            creds["SecretAccessKey"],
            creds["SessionToken"],
        )
        account = self.client(found, "sts").get_caller_identity()["Account"]
        if account != self.ids[env]:
            raise RuntimeError(f"assumed {role} but STS says account {account}")
        return found

    def platform(self, env: str) -> Credentials:
        """The platform's Terraform identity in `env` (the bootstrap stack's apply role)."""
        return self.assume(
            env, names.pattern("platform_deploy_role", environment=env), f"platform-{env}"
        )

    def client(self, creds: Credentials, service: str) -> Any:
        """A boto3 client with `creds`, bound to the embedded AWS."""
        return boto3.client(
            service,
            endpoint_url=self.aws.endpoint_url,
            region_name=self.region,
            aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
            aws_session_token=creds.session_token,
        )

    def process_env(self, creds: Credentials) -> dict[str, str]:
        """What a subprocess needs to reach the embedded AWS as `creds`."""
        return {**self.aws.env, **creds.env()}
