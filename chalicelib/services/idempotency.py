"""`Idempotency-Key` on POSTs, with Powertools' idempotency utility.

Powertools records the request (conditional put) before the effect and the
response after it, in the idempotency table. We key it by (API key id,
Idempotency-Key) and validate a hash of the body, so the same key with another
body is refused (409) instead of silently replaying a different answer.
A failed request (any error) deletes the record, so a retry runs again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from chalicelib import aws
from chalicelib.errors import BadRequest, Conflict
from chalicelib.settings import get_settings

KEEP_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255

Replayable = dict[str, Any]  # {"status": int, "body": JSON}


def run_once(
    key_id: str,
    idempotency_key: str,
    scope: str,
    body: bytes,
    effect: Callable[[], Replayable],
    lambda_context: Any = None,
) -> Replayable:
    # Deferred for cold start: Powertools' idempotency is needed only with the header.
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
        raise BadRequest(
            "Idempotency-Key must be 1 to 255 characters",
            {"Idempotency-Key": "1 to 255 characters"},
        )
    persistence = DynamoDBPersistenceLayer(
        table_name=get_settings().idempotency_table_name,
        boto3_client=aws.client("dynamodb"),
    )
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="body",
        expires_after_seconds=KEEP_SECONDS,
        raise_on_no_idempotency_key=True,
    )
    if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
        config.register_lambda_context(lambda_context)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="request",
        persistence_store=persistence,
        config=config,
        key_prefix="slaguard-post",
    )
    def once(request: dict[str, str]) -> Replayable:
        return effect()

    request = {
        "key": f"{key_id}:{idempotency_key}:{scope}",
        "body": hashlib.sha256(body).hexdigest(),
    }
    try:
        result: Replayable = once(request=request)
    except IdempotencyValidationError as e:
        raise Conflict(
            "this Idempotency-Key was used with another body", code="idempotency_key_reused"
        ) from e
    except IdempotencyAlreadyInProgressError as e:
        raise Conflict(
            "a request with this Idempotency-Key is still in progress",
            code="idempotency_in_progress",
        ) from e
    return result
