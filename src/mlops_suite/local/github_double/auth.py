"""Authentication in the GitHub double: personal and installation tokens, the App's JWT."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from typing import Any

from mlops_suite.local.github_double.model import error

Environ = dict[str, Any]


class Authentication:
    """Who a request is: a token (with its installation permissions), the App, or nobody."""

    token: str
    app_id: str
    installation_tokens: list[str]
    token_permissions: dict[str, dict[str, str]]
    _app_public_key: Any

    @staticmethod
    def _basic_password(header: str) -> str | None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None

    def _valid_token(self, token: str) -> bool:
        return secrets.compare_digest(token, self.token) or token in self.installation_tokens

    def _authenticate(self, environ: Environ) -> tuple[str, dict[str, str] | None]:
        """("token" | "app" | "none", the installation token's permissions or None)."""
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, value = header.partition(" ")
        if not header:
            return "none", None
        if scheme.lower() not in ("bearer", "token") or not value:
            raise error(401, "Bad credentials")
        if self._valid_token(value):
            return "token", self.token_permissions.get(value)
        if value.count(".") == 2 and self._valid_jwt(value):
            return "app", None
        raise error(401, "Bad credentials")

    def _valid_jwt(self, jwt: str) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        head, payload, sig = jwt.split(".")

        def unb64(s: str) -> bytes:
            return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

        try:
            self._app_public_key.verify(
                unb64(sig), f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
            claims = json.loads(unb64(payload))
        except (InvalidSignature, ValueError, binascii.Error):
            return False
        now = time.time()
        return bool(
            claims.get("iss") == self.app_id
            and claims.get("iat", now + 1) <= now
            and now < claims.get("exp", 0) <= claims.get("iat", 0) + 600
        )
