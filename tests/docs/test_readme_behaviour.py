"""The README's behaviour examples, run as written against the demo shop on a real
server, as ``test_readme_api`` runs the API examples (same recorder, same shop)."""

from __future__ import annotations

import pytest

from tests.docs.test_readme_api import Run, record

MARK = "<!-- readme-behaviour-examples -->"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return record(tmp_path_factory.mktemp("readme-behaviour"), MARK)


def test_every_call_answers_the_status_the_readme_implies(run: Run) -> None:
    assert [status for status, _ in run.answers] == [200, 201, 200, 200, 422]


def test_a_behaviour_preview_a_saved_segment_and_the_demos_own(run: Run) -> None:
    preview = run.body(1)
    assert preview["count"] > 0
    assert len(preview["sample"]) == min(3, preview["count"])
    created = run.body(2)
    assert created["rule"]["text"] == "purchased(IN SEGMENT 'bestsellers', since: -7d)"
    assert run.body(3)["member_count"] == run.counts["lapsed"] > 0
    assert 0 < len(run.body(4)["items"]) <= 5


def test_a_function_in_the_wrong_kind_is_refused_by_name(run: Run) -> None:
    problem = run.body(5)
    assert problem["type"].endswith("/invalid-rule")
    assert "customer" in problem["errors"][0]["message"]
