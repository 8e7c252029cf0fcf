"""Typed errors of the service layer; `chalicelib.api.http` maps them to the
contract's error JSON in one place."""

from __future__ import annotations


class SlaguardError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, fields: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code is not None:
            self.code = code


class BadRequest(SlaguardError):
    status = 400
    code = "bad_request"


class Unauthorized(SlaguardError):
    status = 401
    code = "unauthorized"


class Forbidden(SlaguardError):
    status = 403
    code = "forbidden"


class NotFound(SlaguardError):
    status = 404
    code = "not_found"


class Conflict(SlaguardError):
    status = 409
    code = "conflict"


class Collision(Conflict):
    """A transaction cancelled only because another one was writing one of its items
    at that instant (a report counter several tickets share): no condition failed,
    so the same write may be sent again (`unit_of_work.retrying`)."""


class PayloadTooLarge(SlaguardError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(SlaguardError):
    status = 415
    code = "unsupported_media_type"


class RuleRefused(SlaguardError):
    status = 422
    code = "rule_refused"


class Unavailable(SlaguardError):
    """AWS throttled us: the client may retry after `Retry-After` seconds."""

    status = 503
    code = "temporarily_unavailable"


class TicketNotFound(NotFound):
    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"ticket {ticket_id} not found", code="ticket_not_found")


class TenantNotFound(NotFound):
    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"tenant {tenant_id} not found", code="tenant_not_found")


class TicketUnreadable(SlaguardError):
    """The ticket's stored item is not the shape we write (hand-edited, or written by
    an older, laxer version): an operator must mend it. Logged with its key."""

    def __init__(self, ticket_id: str) -> None:
        super().__init__(
            f"ticket {ticket_id} is stored in a shape this service cannot read; "
            "an operator has been told",
            code="ticket_unreadable",
        )


class ProposalNotFound(NotFound):
    def __init__(self, proposal_id: str) -> None:
        super().__init__(f"proposal {proposal_id} not found", code="proposal_not_found")


class NotSubscribed(NotFound):
    def __init__(self, proposal_id: str, contact: str) -> None:
        super().__init__(
            f"{contact} of this tenant is not subscribed to proposal {proposal_id}",
            {"contact": "not subscribed"},
            code="not_subscribed",
        )
