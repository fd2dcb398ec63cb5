"""Signatures as the Standard Webhooks specification defines them: its own test vector,
and agreement with the verifier the tests write from the specification."""

from __future__ import annotations

import time

import pytest

from segmentry.engine.delivery import signing
from tests.delivery.receiver import verify

# From standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts
# ("sign function works").
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_PAYLOAD = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specifications_own_example() -> None:
    assert signing.sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD) == SPEC_SIGNATURE


def test_new_secrets_are_random_whsec_base64() -> None:
    made = {signing.new_secret() for _ in range(50)}
    assert len(made) == 50
    assert all(s.startswith("whsec_") and len(signing.key_of(s)) == 24 for s in made)


@pytest.mark.parametrize("body", [b"{}", b'{"events": []}', '{"é": 1}'.encode()])
def test_the_independent_verifier_accepts_each_signature_of_a_rotation(body: bytes) -> None:
    old, new = signing.new_secret(), signing.new_secret()
    stamp = int(time.time())
    header = signing.signature_header([new, old], "msg_1", stamp, body)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(stamp), "webhook-signature": header}
    assert verify([new], headers, body)
    assert verify([old], headers, body)
    assert not verify([signing.new_secret()], headers, body)
    assert not verify([new], headers, body + b" ")
    assert not verify([new], {**headers, "webhook-id": "msg_2"}, body)
    assert not verify([new], {**headers, "webhook-timestamp": str(stamp - 3_600)}, body)
