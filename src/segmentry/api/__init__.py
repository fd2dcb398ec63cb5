"""The HTTP API under ``/v1``: a thin layer of FastAPI routes over the library."""
