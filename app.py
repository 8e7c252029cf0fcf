"""slaguard: wiring only. Routes live in chalicelib/api, use cases in
chalicelib/services, the scheduled breach checker in chalicelib/services/checker."""

from __future__ import annotations

import gc
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from chalice.app import Chalice, ConvertToMiddleware, Rate

from chalicelib.api import (
    admin,
    lifecycle,
    meta,
    partners,
    policies,
    proposals,
    reports,
    tickets,
)
from chalicelib.api.http import contract_errors

# The checker's work queue: `chalice package` writes this name into the ARN of the
# worker's event source (inside an Fn::Sub), so each stack reads its own queue,
# `<stack>-checker-work` (infra/build.py).
WORK_QUEUE = "${AWS::StackName}-checker-work"

app = Chalice(app_name="slaguard", configure_logs=False)
app.api.binary_types = []  # every body is JSON text
# One Powertools service name across the app: every Logger of that name shares its
# formatter, so the correlation id set here (the API Gateway request id, or the
# EventBridge event id) is on every JSON line either function logs.
logger = Logger(service="slaguard")
# X-Ray (active on every function). Only botocore is patched: every call slaguard makes
# to AWS goes through it (PynamoDB included), and patching every library the X-Ray SDK
# knows (its default) costs 27 ms of cold start for none of ours (bench/coldstart.py).
tracer = Tracer(service="slaguard", patch_modules=("botocore",))
app.register_middleware(
    ConvertToMiddleware(
        logger.inject_lambda_context(
            correlation_id_path="requestContext.requestId || id", clear_state=True
        )
    )
)
# capture_response=False: an answer may hold a clear API key or secret, never a trace's
app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler(capture_response=False)))
app.register_middleware(contract_errors, "http")
app.register_blueprint(meta.bp)
app.register_blueprint(admin.bp)
app.register_blueprint(tickets.bp)
app.register_blueprint(lifecycle.bp)
app.register_blueprint(reports.bp)
app.register_blueprint(policies.bp)
app.register_blueprint(partners.bp)
app.register_blueprint(proposals.bp)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="breach_checker")
def breach_checker(event: Any) -> dict[str, int]:
    """Every minute: evaluate what is due at the event's `time` (docs/api.md, Operations)."""
    # Deferred for cold start: API invocations never load the checker (and its metrics).
    from chalicelib.services.checker import run_scheduled

    return run_scheduled(event.to_dict(), event.context)


@app.on_sqs_message(queue=WORK_QUEUE, batch_size=1, name="checker_worker")
def checker_worker(event: Any) -> dict[str, int]:
    """One worker of a scheduled run: its share of the due index (docs/performance.md)."""
    from chalicelib.services.checker import run_worker

    return run_worker([record.body for record in event], event.context)


# Lambda's init ends with this import: what it built (the modules, the routes) lives
# as long as the process, so the collector's full collections need not walk it again.
# Frozen, it is out of their way (a first request's full collection walked the
# import's ~40,000 objects: ~14 ms of CPU; every later one did too).
gc.freeze()
