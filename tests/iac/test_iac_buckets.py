"""Every bucket: KMS (SSE-S3 only for access-log destinations), TLS-only, public access blocked."""

from __future__ import annotations

from typing import Any

import pytest

Iac = Any  # the `iac` fixture of tests/iac/conftest.py

LOG_DESTINATION_SKIP = "checkov:skip=CKV_AWS_145"


def _tls_only(statements: list[dict[str, Any]]) -> bool:
    return any(
        st.get("Effect") == "Deny"
        and st.get("Principal") == "*"
        and str(st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")).lower()
        == "false"
        for st in statements
    )


def test_terraform_buckets(iac: Iac) -> None:
    """Each module with a bucket also encrypts it, blocks public access and denies plain HTTP."""
    checked = 0
    for mod in iac.modules.values():
        buckets = mod.of_type("aws_s3_bucket")
        if not buckets:
            continue
        checked += len(buckets)
        where = mod.path.name
        assert len(buckets) == 1, f"{where}: one bucket per module keeps its controls next to it"
        sse = mod.of_type("aws_s3_bucket_server_side_encryption_configuration")
        assert sse, f"{where}: bucket without encryption configuration"
        default = sse[0].body["rule"][0]["apply_server_side_encryption_by_default"][0]
        if default["sse_algorithm"] != "aws:kms":
            # Only access-log destinations may use SSE-S3, and they say why next to the resource.
            assert default["sse_algorithm"] == "AES256"
            assert any(
                LOG_DESTINATION_SKIP in c and "access logging" in c for c in sse[0].comments
            ), f"{where}: non-KMS bucket without the access-log justification"
        else:
            assert default.get("kms_master_key_id"), f"{where}: SSE-KMS without a customer key"
        pab = mod.of_type("aws_s3_bucket_public_access_block")
        assert pab, f"{where}: no public access block"
        for flag in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ):
            assert pab[0].body[flag] is True, f"{where}: {flag} is not true"
        policy = mod.of_type("aws_s3_bucket_policy")
        assert policy, f"{where}: no bucket policy"
        statements = [
            st for value in mod.locals.values() if isinstance(value, list) for st in value
        ]
        statements += [
            st
            for value in mod.locals.values()
            if isinstance(value, dict)
            for st in (value.get("Statement") if isinstance(value.get("Statement"), list) else [])
        ]
        assert _tls_only(statements), (
            f"{where}: the bucket policy must deny aws:SecureTransport=false"
        )
        assert mod.of_type("aws_s3_bucket_versioning"), f"{where}: no versioning"
    assert checked >= 2


def _cfn_templates(iac: Iac) -> dict[str, dict[str, Any]]:
    return {"bootstrap": iac.bootstrap, **iac.project_templates}


def _ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


@pytest.mark.parametrize("template", ["bootstrap", "project-templates"])
def test_cloudformation_buckets(iac: Iac, template: str) -> None:
    """Every AWS::S3::Bucket of the bootstrap stack and the project templates is locked down."""
    templates = (
        {"bootstrap": iac.bootstrap} if template == "bootstrap" else dict(iac.project_templates)
    )
    checked = 0
    for tname, tpl in templates.items():
        resources = tpl.get("Resources") or {}
        log_destinations = {
            _ref(r["Properties"]["LoggingConfiguration"].get("DestinationBucketName"))
            for r in resources.values()
            if r.get("Type") == "AWS::S3::Bucket"
            and "LoggingConfiguration" in (r.get("Properties") or {})
        }
        policies = {
            _ref(r["Properties"]["Bucket"]): r["Properties"]["PolicyDocument"]["Statement"]
            for r in resources.values()
            if r.get("Type") == "AWS::S3::BucketPolicy"
        }
        for name, res in resources.items():
            if res.get("Type") != "AWS::S3::Bucket":
                continue
            checked += 1
            props = res["Properties"]
            where = f"{tname}/{name}"
            rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            algo = rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
            if name in log_destinations:
                assert algo in ("aws:kms", "AES256"), where
            else:
                assert algo == "aws:kms", f"{where}: data buckets use SSE-KMS"
                assert rule["ServerSideEncryptionByDefault"].get("KMSMasterKeyID"), where
                assert "LoggingConfiguration" in props, f"{where}: access logging"
            pab = props["PublicAccessBlockConfiguration"]
            assert all(
                pab[k] is True
                for k in (
                    "BlockPublicAcls",
                    "BlockPublicPolicy",
                    "IgnorePublicAcls",
                    "RestrictPublicBuckets",
                )
            ), where
            assert name in policies, f"{where}: no bucket policy"
            assert _tls_only(policies[name]), f"{where}: TLS-only bucket policy"
    if template == "bootstrap":
        assert checked == 2
    elif iac.project_templates:
        assert checked >= 1
