"""An SNS request's form body is encoded once, when the request is created
(chalicelib/aws.py: form_encode_once), to the very text botocore would send."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSRequest

from chalicelib.aws import form_encode_once

BODY = {
    "Action": "PublishBatch",
    "Version": "2010-03-31",
    "TopicArn": "arn:aws:sns:us-east-1:123456789012:slaguard-alerts",
    "PublishBatchRequestEntries.member.1.Id": "m0",
    "PublishBatchRequestEntries.member.1.Message": (
        '{"default":"{\\"id\\":\\"tkt_1:sla.threshold\\",\\"pct\\":75}",'
        '"email":"Umbral SLA (bloqueante): Caída — 75 % ~ a+b=c&d/e?f#g\\n€ 😀"}'
    ),
    "PublishBatchRequestEntries.member.1.Subject": "SLA breached (blocker): Down & out",
    "PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.StringValue": "-_.~*'()",
    "Count": 3,
    "Flag": True,
}


def sent(data: dict[str, Any], hook: bool) -> Any:
    request = AWSRequest(method="POST", url="https://sns.us-east-1.amazonaws.com/", data=data)
    if hook:
        form_encode_once(request)
    return request.prepare().body


def test_the_body_is_the_text_botocore_would_send() -> None:
    assert sent(dict(BODY), hook=True) == sent(dict(BODY), hook=False)


@pytest.mark.parametrize("byte", range(256))
def test_every_byte_is_quoted_as_urlencode_quotes_it(byte: int) -> None:
    data = {"k": bytes([byte]) + "é".encode()}
    assert sent(dict(data), hook=True) == sent(dict(data), hook=False)


def test_an_sns_call_encodes_its_form_once_and_signs_what_it_sends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """botocore's own encoder is never reached (it would run twice: to sign, to send)."""
    import botocore.awsrequest
    from botocore.awsrequest import AWSResponse

    from chalicelib import aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "unit",
        "AWS_SECRET_ACCESS_KEY": "unit",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)

    def encoder_used(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("botocore form-encoded the body itself")

    monkeypatch.setattr(botocore.awsrequest, "urlencode", encoder_used)
    seen: list[Any] = []

    class Raw:
        def stream(self, **_: Any) -> Any:
            yield b"<PublishResponse><PublishResult><MessageId>1</MessageId></PublishResult>"
            yield b"</PublishResponse>"

    def answer(request: Any, **_: Any) -> AWSResponse:
        seen.append(request)
        return AWSResponse(request.url, 200, {}, Raw())

    aws.reset_clients()
    try:
        sns = aws.client("sns")
        sns.meta.events.register_first("before-send", answer)
        sns.publish(TopicArn="arn:aws:sns:us-east-1:123456789012:t", Message="a b&c")
    finally:
        aws.reset_clients()
    (request,) = seen
    assert "Message=a+b%26c" in request.body
    assert "Signature=" in request.headers["Authorization"].decode()
