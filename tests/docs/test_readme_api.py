"""The README's curl examples, run as written against the demo shop on a real server.

The block after ``<!-- readme-api-examples -->`` runs in bash with ``KEY`` set to
the demo key. ``curl`` is wrapped so that each call's answer and status are kept
(and a call marked ``--fail-with-body`` that answers 4xx or 5xx stops the run);
then each answer is checked for what the README says the call does.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from segmentry.cli.server import LiveServer, build_app
from segmentry.engine.segmentry import Segmentry
from segmentry.synthetic.demo import build_demo

README = Path(__file__).resolve().parents[2] / "README.md"
MARK = "<!-- readme-api-examples -->"
RECORDER = """
set -euo pipefail
calls=0
curl() {
  calls=$((calls + 1))
  command curl -w '\\n%{http_code}' "$@" > "answers/$calls"
  local code; code=$(tail -n 1 "answers/$calls")
  if [[ $code -ge 400 && " $* " == *" --fail-with-body "* ]]; then
    cat "answers/$calls"; return 22
  fi
}
"""


@dataclass(frozen=True)
class Run:
    answers: list[tuple[int, Any]]
    work: Path
    counts: dict[str, int]

    def body(self, number: int) -> Any:
        """The JSON answer of the README's ``number``-th curl call (1-based)."""
        return self.answers[number - 1][1]


def examples(mark: str = MARK) -> str:
    found = re.search(re.escape(mark) + r"\n```sh\n(.*?)\n```", README.read_text(), re.S)
    assert found, f"README.md has no ```sh block after {mark}"
    return found.group(1).replace("URL=http://127.0.0.1:8000", "URL=$DEMO_URL", 1)


def record(work: Path, mark: str = MARK) -> Run:
    """Run the block after ``mark`` against a small demo shop served from ``work``."""
    (work / "answers").mkdir()
    with Segmentry(f"sqlite:///{work / 'demo.db'}") as segmentry:
        built = build_demo(segmentry, products=2_000, customers=5_000)
        counts = {s.code: s.member_count for s in built.segments}
        with LiveServer(build_app(segmentry)) as live:
            env = {"PATH": "/usr/bin:/bin", "KEY": built.api_key, "DEMO_URL": live.url}
            done = subprocess.run(
                ["bash", "-c", RECORDER + examples(mark)],
                cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    numbered = sorted((work / "answers").iterdir(), key=lambda p: int(p.name))
    return Run([_answer(path) for path in numbered], work, counts)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return record(tmp_path_factory.mktemp("readme"))


def _answer(path: Path) -> tuple[int, Any]:
    body, _, status = path.read_text().rpartition("\n")
    return int(status), json.loads(body) if body.strip() else None


def test_every_call_answers_the_status_the_readme_implies(run: Run) -> None:
    statuses = [status for status, _ in run.answers]
    assert statuses == [200] * 6 + [201] + [200] * 6 + [201, 200, 200, 404] + [200] * 3 + [422]


def test_the_demo_segments_are_listed_with_plausible_counts(run: Run) -> None:
    listed = {s["code"]: s for s in run.body(1)["items"]}
    assert {s["kind"] for s in listed.values()} == {"customer"}
    assert {"engageNoOrders", "goldLoyalty", "goldOnIos", "recentBuyers"} <= set(listed)
    assert all(s["member_count"] > 0 for s in listed.values())
    assert listed["goldOnIos"]["member_count"] < listed["goldLoyalty"]["member_count"] < 1_250
    assert all(count > 0 for count in run.counts.values()), run.counts


def test_a_written_customer_is_in_its_segments_at_once(run: Run) -> None:
    assert run.body(2)["attributes"] == {"loyalty_status": "Gold"}
    assert run.body(3)["member"] is True
    codes = {m["code"] for m in run.body(4)["items"]}
    assert {"engageNoOrders", "goldLoyalty", "goldOnIos"} <= codes
    assert run.body(5)["member"] is True


def test_preview_create_and_a_safe_edit(run: Run) -> None:
    assert len(run.body(6)["sample"]) == min(3, run.body(6)["count"])
    assert (run.body(7)["code"], run.body(7)["version"]) == ("norkaOver100", 1)
    assert run.body(8)["version"] == 2
    assert run.body(8)["rule"]["text"] == "brand = 'Norka' AND price > 150"
    edit = run.body(9)
    assert edit["entering"] > 0
    assert edit["leaving"] == 0


def test_members_page_and_the_csv_export(run: Run) -> None:
    page = run.body(10)
    assert len(page["items"]) == 5
    assert page["next_cursor"]
    with (run.work / "premium.csv").open() as exported:
        rows = list(csv.reader(exported))
    assert len(rows) - 1 == run.counts["premiumProducts"]


def test_batch_import_use_events_and_a_rule_error(run: Run) -> None:
    assert run.body(12) == {"upserted": 2}
    imported = run.body(13)
    assert (imported["applied"], imported["rejected"]) == (1, 1)
    assert imported["errors"][0]["line"] == 3
    assert run.body(14)["name"] == "Spring mail"
    assert len(run.body(15)["items"]) == 3
    problem = run.body(21)
    assert problem["type"].endswith("/invalid-rule")
    assert problem["errors"][0]["hint"] == "did you mean 'price'?"


def test_orders_move_the_customer_and_are_listed_newest_first(run: Run) -> None:
    assert run.body(16)["total"] == 120.99  # derived from the line: 3 x 40.33
    assert run.answers[16][0] == 404  # a lifetime value now: out of engageNoOrders
    assert run.body(18) == {"upserted": 2}
    imported = run.body(19)
    assert (imported["applied"], imported["rejected"]) == (2, 0)  # two lines of one order
    listed = run.body(20)["items"]
    assert [o["id"] for o in listed] == ["o-9004", "o-9002", "o-9001"]
    assert [len(o["lines"]) for o in listed] == [2, 1, 1]
