"""The OpenAPI document: valid OpenAPI 3.1, and exactly the api's routes and methods."""

from __future__ import annotations

import jsonschema
from schemathesis.specs.openapi.definitions import OPENAPI_31

from api.v1.openapi import document
from api.v1.routes import PREFIX, ROUTES


def test_document_is_valid_openapi_3_1() -> None:
    jsonschema.Draft202012Validator(OPENAPI_31).validate(document())


def test_document_lists_exactly_the_routes_and_their_methods() -> None:
    served = {PREFIX + template: sorted(method.lower() for method in handler.allowed_methods() if method != "HEAD")
              for template, handler in ROUTES}  # HEAD goes with every GET (HTTP's rule), undocumented
    described = {path: sorted(operations) for path, operations in document()["paths"].items()}
    assert described == served


def test_every_operation_documents_its_path_parameters_and_answers() -> None:
    for path, operations in document()["paths"].items():
        names = {segment[1:-1] for segment in path.split("/") if segment.startswith("{")}
        for method, operation in operations.items():
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == names, (method, path)
            assert any(status.startswith("2") for status in operation["responses"]), (method, path)
