"""The OpenAPI document: FastAPI's, with every error described as a problem.

Every operation may answer 400 (a body that is not JSON), 401 (no valid key),
413 (a body too large) and 422 (a request that does not validate), so those
are added to each; routes declare the others they answer themselves.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from segmentry.api.problems import Problem, described

COMMON_PROBLEMS = (400, 401, 413, 422)
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        _add_problem_schemas(schema)
        for path in schema["paths"].values():
            for method in HTTP_METHODS:
                if method in path:
                    _describe_problems(path[method])
        app.openapi_schema = schema
    return app.openapi_schema


def _add_problem_schemas(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)


def _describe_problems(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status, answer in described(*COMMON_PROBLEMS).items():
        responses[str(status)] = answer  # FastAPI's own 422 describes another body


def install(app: FastAPI) -> None:
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
