"""Schemathesis against /openapi.json: every operation, valid and schema-violating data.

Schemathesis calls the application in-process (its ASGI transport: over a real
socket, h11 refuses some of its malformed requests before the application
sees them, which is the server's business, not the API's). Two tenants hold
objects with the same codes and ids (the OpenAPI examples, so
Schemathesis asks for them); every request is made as tenant A. The checks:
no 5xx, status codes, content types, headers and bodies as documented,
schema-violating requests refused with a 4xx, a missing key refused with 401,
and, added here, that no answer to A ever holds B's data, and that B's data
is the same after the run as before.

Two checks are off. ``positive_data_acceptance``: the schema cannot say what
the library checks beyond types (a rule's grammar, an id matching its path, a
segment code that exists), so a schema-valid request may rightly be refused
with 422. ``allow_header_conformance``: an entity id may be ``batch`` or
``import`` and a segment code ``preview``, so ``/v1/products/batch`` also
takes the methods of ``/v1/products/{entity_id}``, and ``Allow`` says so,
where the check expects only those of the literal path.
"""

from __future__ import annotations

import atexit
import io
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis import Case, CheckContext, Response, SerializationContext
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import negative_data_rejection

from segmentry.api.app import create_app
from segmentry.engine.segmentry import Segmentry
from segmentry.engine.shop import Shop
from segmentry.engine.types import SegmentSpec, SegmentType, Use, UseType
from tests.api.conftest import new_tenant
from tests.conftest import examples

MARK = "TENANT-B-ONLY"
FILES = ("text/csv", "application/x-ndjson")
EXAMPLES_PER_OPERATION = examples(in_ci=50, locally=50)


def _seed(shop: Shop, label: str) -> None:
    shop.declare_attribute("product", "tier", "string", label=f"{label} tier")
    for kind in ("product", "customer"):
        shop.upsert_many(kind, [{"id": "p1", "tags": [label]}, {"id": "p2", "tags": [label]}])
    shop.upsert("product", "p1", {"name": f"{label} Air", "price": 120, "tier": "gold"})
    shop.create_segment(SegmentSpec(kind="product", code="big", name=f"{label} big",
                                    rule="price > 100"))  # fmt: skip
    shop.create_segment(SegmentSpec(kind="product", code="vip", name=f"{label} vip",
                                    type=SegmentType.FIXED, members=["p1", "p2"]))  # fmt: skip
    shop.put_use("vip", Use("spring-mail", UseType.WORKFLOW, f"{label} mail"))
    shop.import_file("product", io.BytesIO(f"id,name\np3,{label} Tee\n".encode()), "csv")


def _state_of(shop: Shop) -> Any:
    """Everything of B that A's requests could have touched."""
    return (
        [(s.code, s.version, s.member_count) for s in shop.segments()],
        [e.attributes for kind in ("product", "customer") for e in shop.entities(kind).items],
        [a.key for a in shop.attributes("product")],
        [u.use_id for u in shop.uses("vip")],
        len(shop.events(limit=1_000).items),
    )


# Schemathesis makes one test per operation when this module is collected, from an
# application it calls in-process; so the application (over an empty database) is
# made at import, and filled by the ``tenants`` fixture only where the tests run.
# In memory-backed storage where there is one: thousands of small commits, each
# synced to disk (synchronous=FULL), would be most of the run's time.
_SHM = Path("/dev/shm")
_DIRECTORY = tempfile.TemporaryDirectory(
    prefix="segmentry-schemathesis-", dir=_SHM if _SHM.is_dir() else None
)
atexit.register(_DIRECTORY.cleanup)
ENGINE = Segmentry(f"sqlite:///{Path(_DIRECTORY.name) / 'shop.db'}")
atexit.register(ENGINE.close)
CONFIG = SchemathesisConfig.from_dict(
    {
        # The key is sent by the test; Schemathesis's own probe without it
        # (the ignored_auth check) still asks for the 401.
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES_PER_OPERATION,
            "with-security-parameters": False,
        },
        "checks": {
            "positive_data_acceptance": {"enabled": False},
            "allow_header_conformance": {"enabled": False},
        },
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(ENGINE), config=CONFIG)


@dataclass
class Tenants:
    a_auth: dict[str, str]
    b_shop: Shop
    b_before: Any


@pytest.fixture(scope="module")
def tenants() -> Tenants:
    a_id, a_key = new_tenant(ENGINE, "shop a")
    b_id, _ = new_tenant(ENGINE, "shop b")
    _seed(ENGINE.shop(a_id), "A")
    _seed(ENGINE.shop(b_id), MARK)
    b_shop = ENGINE.shop(b_id)
    return Tenants({"Authorization": f"Bearer {a_key}"}, b_shop, _state_of(b_shop))


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: SerializationContext, value: Any) -> bytes:
    """JSON Lines bodies are described as strings: sent as their UTF-8 text."""
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


def never_shows_tenant_b(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    assert MARK not in response.text, f"tenant B's data in an answer to tenant A: {response.text}"
    return None


@pytest.mark.xdist_group("schemathesis")
@schema.parametrize()
def test_every_operation_conforms_and_keeps_tenants_apart(case: Case, tenants: Tenants) -> None:
    case.call_and_validate(
        headers=tenants.a_auth,
        additional_checks=[never_shows_tenant_b],
        excluded_checks=[negative_data_rejection] if _unsendable_file(case) else [],
    )


def _unsendable_file(case: Case) -> bool:
    """A JSON Lines upload that is not text (an array, a number): on the wire every file
    is text, so the "negative" body arrives as a valid file (Schemathesis excuses
    text/* bodies the same way, but does not know JSON Lines is text)."""
    return case.media_type in FILES and not isinstance(case.body, str)


@pytest.mark.xdist_group("schemathesis")
def test_tenant_b_is_untouched_by_tenant_a(tenants: Tenants) -> None:
    assert _state_of(tenants.b_shop) == tenants.b_before
