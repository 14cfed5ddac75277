"""schemathesis against the OpenAPI schema, as an admin: no request the schema allows may make a
server error (a 5xx), on SQLite and on PostgreSQL. Bounded: 15 examples per operation."""

import itertools

import schemathesis
from api_support import Api
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from citywatch.incidents.users import Role

_tokens = itertools.count(1)
EXCLUDED = {"/api/auth/logout"}  # would end the session the fuzzing runs with


def test_no_request_makes_a_server_error(shared_api: Api) -> None:
    for _ in range(3):  # something for the generated requests to find
        shared_api.add_incident(with_evidence=False)
    schema = schemathesis.openapi.from_asgi("/openapi.json", shared_api.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        if operation.path in EXCLUDED:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_server_error(case: schemathesis.Case) -> None:
            # A fresh admin token per request: a generated DELETE /api/tokens/{id} may revoke one.
            _, secret = shared_api.context.users.create_token(f"fuzz{next(_tokens)}", Role.ADMIN, "test")
            response = case.call(headers={"Authorization": f"Bearer {secret}"})
            case.validate_response(response, checks=[not_a_server_error])

        no_server_error()
