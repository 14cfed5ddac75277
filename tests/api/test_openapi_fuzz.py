"""schemathesis against the OpenAPI schema, as an admin: no request the schema allows may make a
server error (a 5xx), on SQLite and on PostgreSQL. Bounded: 15 examples per operation.
tests/security/test_fuzzing.py shows the same run failing on a planted 500."""

from api_support import Api, fuzz_operations

EXCLUDED = {"/api/auth/logout"}  # would end the session the fuzzing runs with


def test_no_request_makes_a_server_error(shared_api: Api) -> None:
    for _ in range(3):  # something for the generated requests to find
        shared_api.add_incident(with_evidence=False)
    assert fuzz_operations(shared_api.client.app, shared_api.context, EXCLUDED) >= 20
