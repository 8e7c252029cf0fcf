"""Every function logs through Powertools with a correlation id: the API Gateway
request id for a request, the EventBridge event id for a checker run. One service
name, so the checker's and the alerts' loggers carry the same id."""

from __future__ import annotations

import io
import json
import logging
import uuid

from tests.integration.helpers import Api


def test_a_checker_run_correlates_on_its_event_id(api: Api) -> None:
    import app as application
    from chalicelib import alerts
    from chalicelib.services import checker

    event = api.client.events.generate_cw_event(
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        resources=[],
        region="us-east-1",
    )
    event["id"] = str(uuid.uuid4())
    event["time"] = "2026-03-02T14:00:00Z"
    api.client.lambda_.invoke("breach_checker", event)
    assert application.logger.get_correlation_id() == event["id"]
    assert checker.logger.get_correlation_id() == event["id"]
    assert alerts.logger.get_correlation_id() == event["id"]


def _proxy_event(path: str, request_id: str, key: str | None = None) -> dict[str, object]:
    headers = {"host": "api.example", **({"authorization": f"Bearer {key}"} if key else {})}
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": "GET",
            "requestId": request_id,
            "stage": "api",
            "path": f"/api{path}",
            "identity": {"sourceIp": "192.0.2.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def test_each_request_logs_one_line_naming_its_caller_under_its_request_id(
    api: Api, admin_key: str
) -> None:
    """docs/operations.md, Logs: API Gateway's access log cannot see the caller
    (slaguard authenticates in the function), so the function's `request` line,
    under the same request id, names the key id (never the key)."""
    from chalice.local import LambdaContext

    import app as application

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(application.logger.registered_formatter)
    logging.getLogger("slaguard").addHandler(handler)
    request_id = str(uuid.uuid4())
    try:
        response = application.app(
            _proxy_event("/admin/policies", request_id, admin_key),
            LambdaContext("api_handler", memory_size=512),
        )
    finally:
        logging.getLogger("slaguard").removeHandler(handler)
    assert response["statusCode"] == 200
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    (line,) = [x for x in lines if x["message"] == "request"]
    assert line["correlation_id"] == request_id
    assert (line["method"], line["route"], line["status"]) == ("GET", "/admin/policies", 200)
    assert line["key_id"].startswith("key_")
    assert line["tenant_id"] == "provider"
    assert admin_key not in stream.getvalue()


def test_a_request_correlates_on_its_api_gateway_request_id() -> None:
    """The handler as Lambda calls it, with API Gateway's proxy event (Chalice's test
    client builds events without a request id)."""
    from chalice.local import LambdaContext

    import app as application

    request_id = str(uuid.uuid4())
    event = {
        "resource": "/health",
        "path": "/health",
        "httpMethod": "GET",
        "headers": {"host": "api.example"},
        "multiValueHeaders": {"host": ["api.example"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/health",
            "httpMethod": "GET",
            "requestId": request_id,
            "stage": "api",
            "path": "/api/health",
            "identity": {"sourceIp": "192.0.2.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }
    response = application.app(event, LambdaContext("api_handler", memory_size=512))
    assert response["statusCode"] == 200
    assert application.logger.get_correlation_id() == request_id
