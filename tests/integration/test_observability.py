"""Every function logs through Powertools with a correlation id: the API Gateway
request id for a request, the EventBridge event id for a checker run. One service
name, so the checker's and the alerts' loggers carry the same id."""

from __future__ import annotations

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
