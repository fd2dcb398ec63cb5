"""Secrets and signatures as the Standard Webhooks specification defines them.

A secret is ``whsec_`` and the base64 of random bytes; a signature is
``v1,`` and the base64 of HMAC-SHA256, keyed with those bytes, over
``{webhook-id}.{webhook-timestamp}.{body}``. During a rotation the header
carries one signature per secret, separated by spaces.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable

PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def key_of(secret: str) -> bytes:
    """The HMAC key a secret stands for (the bytes after ``whsec_``)."""
    return base64.b64decode(secret.removeprefix(PREFIX), validate=True)


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key_of(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(secrets_: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(sign(s, message_id, timestamp, body) for s in secrets_)
