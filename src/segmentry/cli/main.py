"""The ``segmentry`` command."""

from __future__ import annotations

import typer

from segmentry.cli import (
    attributes,
    deliver,
    demo,
    imports,
    keys,
    rules,
    segments,
    serve,
    tenants,
)

app = typer.Typer(
    name="segmentry",
    help="A real-time segmentation engine for online shops.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.command("deliver")(deliver.deliver)
app.command("demo")(demo.demo)
app.add_typer(tenants.app, name="tenants")
app.add_typer(keys.app, name="keys")
app.command("import")(imports.import_file)
app.add_typer(segments.app, name="segments")
app.add_typer(attributes.app, name="attributes")
app.add_typer(rules.app, name="rules")


if __name__ == "__main__":  # pragma: no cover
    app()
