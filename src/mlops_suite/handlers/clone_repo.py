"""Entry point of the clone-repo custom resource: ``mlops_suite.handlers.clone_repo.handler``.

This module imports only the standard-library response plumbing. The flow (Copier, dulwich,
boto3, httpx) is imported inside the handler, so a broken package still answers CloudFormation
with FAILED instead of leaving the stack waiting for an hour.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from mlops_suite.handlers import cfn

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any] | None:
    """Handle one CloudFormation Create/Update/Delete request; always answers CloudFormation."""
    try:
        from mlops_suite.handlers import clone_repo_flow
    except Exception as exc:  # any import-time failure must still reach CloudFormation
        cfn.answer_init_failure(event, exc, context=context)
        return None
    return clone_repo_flow.handle(event, context)
