"""docs/cli.md covers every command the ``segmentry`` app has."""

from __future__ import annotations

from pathlib import Path

import typer.main

from segmentry.cli.main import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _commands() -> list[str]:
    root = typer.main.get_group(app)
    found = []
    for name, command in root.commands.items():
        children = getattr(command, "commands", None)
        found += [f"{name} {child}" for child in children] if children else [name]
    return found


def test_every_command_is_documented_with_an_example() -> None:
    text = DOC.read_text()
    commands = _commands()
    assert "segments explain" in commands  # the walk reaches the sub-commands
    missing = [c for c in commands if f"segmentry {c}" not in text]
    assert missing == []
