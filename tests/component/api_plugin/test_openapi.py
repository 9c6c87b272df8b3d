"""The compat app's published OpenAPI document says what the app does (the fuzz test checks the
answers against it; here, its shape)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api_plugin.app import OPENAPI_PATH, create_compat_app
from api_plugin.dispatcher import CompatDispatcher

SPEC_OPERATIONS = {
    ("post", "/api/schedules"),
    ("get", "/api/schedules"),
    ("get", "/api/schedules/users"),
    ("post", "/api/schedules/cancel"),
    ("put", "/api/schedules/{scheduleId}/cancel"),
    ("get", "/api/schedules/{scheduleId}"),
    ("put", "/api/schedules/{scheduleId}"),
    ("post", "/api/schedules/{scheduleId}/enable"),
    ("post", "/api/schedules/{scheduleId}/disable"),
    ("delete", "/api/schedules/{scheduleId}"),
    ("get", "/api/contexts"),
    ("get", "/api/contexts/users"),
    ("get", "/api/contexts/{contextId}/logs"),
    ("get", "/api/contexts/{contextId}/results"),
    ("get", "/api/contexts/{contextId}"),
}


def test_the_document_is_served_without_a_token_and_lists_every_endpoint_of_the_spec() -> None:
    from fastapi import FastAPI

    client = TestClient(CompatDispatcher(FastAPI(), compat_app=create_compat_app()))
    response = client.get(OPENAPI_PATH)
    assert response.status_code == 200
    document = response.json()
    operations = {(method, path) for path, item in document["paths"].items() for method in item}
    assert operations == SPEC_OPERATIONS
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)  # the app answers 400, never 422
            assert {"200", "400", "401", "403", "404"} <= set(responses), (method, path)
            assert operation["security"] == [{"bearer": []}]
    schemas = document["components"]["schemas"]
    items = schemas["CreatePlanBody"]["properties"]["planItems"]["anyOf"][0]["items"]
    assert items["discriminator"]["propertyName"] == "triggerType"
    assert set(items["discriminator"]["mapping"]) == {"CRON_JOB", "DEPENDENCY", "ONCE"}
    assert schemas["ExecDetailBody"]["properties"]["retryTimes"]["anyOf"][0]["maximum"] == 100
    assert "HTTPValidationError" not in schemas
