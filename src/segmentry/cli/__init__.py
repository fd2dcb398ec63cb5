"""The command line (Typer), the top of the tree: one command group per resource,
and ``serve``/``demo``, which run the HTTP API and the web page in one server."""
