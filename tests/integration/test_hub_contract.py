"""The hub against its own OpenAPI document (issue 17): schemathesis generates calls
for every operation, with an admin's token (a bad token would soon throttle the test
client: test_door covers those answers), and finds no server error, no undocumented
status and no answer off its schema. A fixed small budget, on SQLite and PostgreSQL.

Driven through schemathesis' Python API: its pytest plugin's lazy schemas do not run
under this pytest."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.integration.conftest import HUB_URL

CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]
EXAMPLES_PER_OPERATION = 15


def test_the_hub_keeps_its_own_openapi_contract(hub):
    schema = schemathesis.openapi.from_asgi("/openapi.json", hub.app)
    headers = {"Authorization": f"Bearer {hub.admin_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def keeps_the_contract(case):
            case.call_and_validate(base_url=HUB_URL, headers=headers, checks=CHECKS)

        keeps_the_contract()
