"""The ``segmentry`` command."""

from __future__ import annotations

import typer

from segmentry.cli import demo, rules, serve

app = typer.Typer(
    name="segmentry",
    help="A real-time segmentation engine for online shops.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(rules.app, name="rules")
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)


if __name__ == "__main__":  # pragma: no cover
    app()
