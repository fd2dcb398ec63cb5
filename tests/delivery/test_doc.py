"""docs/webhooks.md stays true: its Python and Node verifiers accept what segmentry
signs (with the specification's own example too) and refuse what it did not."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from segmentry.engine.delivery import signing
from tests.delivery.test_signing import SPEC_ID, SPEC_PAYLOAD, SPEC_SECRET, SPEC_SIGNATURE

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def block(language: str, containing: str) -> str:
    for found in re.finditer(rf"^```{language}\n(.*?)^```$", DOC.read_text(), re.S | re.M):
        if containing in found[1]:
            return found[1]
    raise AssertionError(f"no {language} block with {containing!r} in {DOC.name}")


def cases() -> list[tuple[str, dict[str, str], bytes, bool]]:
    secret, stamp, body = signing.new_secret(), int(time.time()), b'{"events":[{"id":1}]}'
    header = signing.signature_header([signing.new_secret(), secret], "msg_1", stamp, body)
    good = {"webhook-id": "msg_1", "webhook-timestamp": str(stamp), "webhook-signature": header}
    return [
        (secret, good, body, True),
        (secret, good, body + b" ", False),
        (signing.new_secret(), good, body, False),
        (secret, {**good, "webhook-timestamp": str(stamp - 3_600)}, body, False),
    ]


def test_the_python_verifier() -> None:
    namespace: dict[str, Any] = {}
    exec(block("python", "def verify"), namespace)
    for secret, headers, body, valid in cases():
        assert namespace["verify"](secret, headers, body) is valid
    spec = {"webhook-id": SPEC_ID, "webhook-signature": SPEC_SIGNATURE}
    assert namespace["verify"](
        SPEC_SECRET, {**spec, "webhook-timestamp": "1614265330"}, SPEC_PAYLOAD, 10**10
    )


def test_the_node_verifier(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    module = tmp_path / "verify.js"
    module.write_text(block("javascript", "function verify"))
    checks = [{"secret": s, "headers": h, "body": b.decode(), "valid": v} for s, h, b, v in cases()]
    script = (
        f"const {{ verify }} = require({json.dumps(str(module))});\n"
        f"const checks = {json.dumps(checks)};\n"
        "console.log(JSON.stringify(checks.map((c) => verify(c.secret, c.headers, c.body))));\n"
    )
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [c["valid"] for c in checks]
