"""The fuzzing of tests/api/test_openapi_fuzz.py would catch a server error: planted here, one route
that answers 500 for some of the inputs its schema allows (as the probe's dates did) makes the same
run fail, by its check on the answer's status."""

from typing import Annotated

import pytest
from api_support import Api, fuzz_operations
from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse
from schemathesis.core.failures import FailureGroup, ServerError

from citywatch.api.app import create_app


def test_the_fuzzing_fails_on_a_planted_server_error(api: Api) -> None:
    app: FastAPI = create_app(api.context)

    @app.get("/api/planted")
    def planted(days: Annotated[int, Query(ge=0, le=100_000)] = 1) -> JSONResponse:
        """A bug of the probe's kind: fine for small values, a 500 for large ones."""
        if days > 1000:
            return JSONResponse({"detail": "date value out of range"}, status_code=500)
        return JSONResponse({"days": days})

    only_planted = set(app.openapi()["paths"]) - {"/api/planted"}
    with pytest.raises(FailureGroup) as failure:
        fuzz_operations(app, api.context, only_planted, examples=50)
    assert [type(e) for e in failure.value.exceptions] == [ServerError]
