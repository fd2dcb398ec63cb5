"""The served application: the API and the web page on one real port."""

from __future__ import annotations

from pathlib import Path

import httpx

from segmentry.cli.server import LiveServer, build_app
from segmentry.engine.segmentry import Segmentry


def test_one_port_serves_the_api_description_and_the_web_page(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    with Segmentry(url) as segmentry, LiveServer(build_app(segmentry)) as live:
        description = httpx.get(f"{live.url}/openapi.json")
        page = httpx.get(f"{live.url}/")
    assert description.status_code == 200
    assert description.json()["info"]["title"] == "segmentry"
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
