"""The API's gateway: its name, tracing, throttling, gateway responses in the
contract's error shape, and its access log (JSON, in a log group with a
retention)."""

from __future__ import annotations

import json

from infra.common import Json, _arn, _ref, _sub

# One JSON line per request (API Gateway's $context variables). The caller's key
# id is not known to API Gateway (slaguard authenticates in the function): the
# API function's `request` log line carries it under the same request id
# (`correlation_id`), docs/operations.md shows the query joining both.
ACCESS_LOG_FORMAT = {
    "request_id": "$context.requestId",
    "time": "$context.requestTime",
    "method": "$context.httpMethod",
    "route": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "latency_ms": "$context.responseLatency",
    "integration_latency_ms": "$context.integrationLatency",
    "response_bytes": "$context.responseLength",
    "source_ip": "$context.identity.sourceIp",
    "user_agent": "$context.identity.userAgent",
    "error": "$context.error.responseType",
}


def _gateway_response(status: str | None, code: str, message: str, **headers: str) -> Json:
    """The contract's error shape, with a fixed message: never `$context.error.message`,
    which echoes the caller's Authorization header for an unsigned request."""
    body = json.dumps({"error": {"code": code, "message": message, "fields": {}}})
    quoted = {"Content-Type": "'application/json'", **{k: f"'{v}'" for k, v in headers.items()}}
    response: Json = {
        "ResponseParameters": {"Headers": quoted},
        "ResponseTemplates": {"application/json": body},
    }
    if status is not None:  # else API Gateway's own status stays
        response["StatusCode"] = status
    return response


def gateway_responses() -> Json:
    return {
        # API Gateway's answer to a route or method it does not know (a 403
        # "Missing Authentication Token" by default).
        "MISSING_AUTHENTICATION_TOKEN": _gateway_response("404", "not_found", "no such route"),
        "THROTTLED": _gateway_response(
            "429", "throttled", "too many requests; retry later", **{"Retry-After": "1"}
        ),
        "REQUEST_TOO_LARGE": _gateway_response("413", "too_large", "the body is too large"),
        # Any other answer of API Gateway itself, in the same shape and status.
        "DEFAULT_4XX": _gateway_response(None, "rejected", "the request was refused"),
        "DEFAULT_5XX": _gateway_response(
            None, "unavailable", "the service is unavailable; retry later", **{"Retry-After": "5"}
        ),
    }


def rest_api() -> Json:
    """What completes Chalice's `RestAPI` (a SAM API: its stage takes the access log)."""
    return {
        # API Gateway writes access logs with the account's CloudWatch role (below).
        "DependsOn": ["ApiGatewayAccount"],
        "Properties": {
            "Name": _sub("${AWS::StackName}"),
            "TracingEnabled": True,
            "MethodSettings": [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": _ref("ApiRateLimit"),
                    "ThrottlingBurstLimit": _ref("ApiBurstLimit"),
                }
            ],
            "GatewayResponses": gateway_responses(),
            "AccessLogSetting": {
                "DestinationArn": _arn("ApiAccessLogs"),
                "Format": json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")),
            },
        },
    }


def resources() -> Json:
    return {
        "RestAPI": rest_api(),
        "ApiAccessLogs": {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "Properties": {
                "LogGroupName": _sub("/aws/apigateway/${AWS::StackName}-access"),
                "RetentionInDays": _ref("LogRetentionDays"),
            },
        },
        # API Gateway logs to CloudWatch with one role per account and region (a
        # setting of the account, not of this API): this stack sets it, and keeps
        # both on deletion, since other APIs of the account may log with it.
        "ApiGatewayLogsRole": {
            "Type": "AWS::IAM::Role",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "apigateway.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "ManagedPolicyArns": [
                    _sub(
                        "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                        "AmazonAPIGatewayPushToCloudWatchLogs"
                    )
                ],
            },
        },
        "ApiGatewayAccount": {
            "Type": "AWS::ApiGateway::Account",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {"CloudWatchRoleArn": _arn("ApiGatewayLogsRole")},
        },
    }
