"""What a re-plan reads (E7, E9): the policy and tenant in force for a ticket,
memoised per checker run or request. The one answer to "which policy is in force"."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.policy import Policy
from chalicelib.domain.terms import SlaBasis
from chalicelib.errors import RuleRefused
from chalicelib.store import policies
from chalicelib.store import tenants as tenant_store


class Lookups:
    """A per-run memo of what re-targeting reads: each policy and tenant is read at
    most once per checker run or request (a missing one is remembered as None),
    and each customer's SLA basis is worked out once per policy version."""

    def __init__(self) -> None:
        self._policies: dict[str, Policy | None] = {}
        self._tenants: dict[str, dict[str, Any] | None] = {}
        self._bases: dict[tuple[str, str, int], SlaBasis] = {}

    def policy(self, policy_id: str) -> Policy | None:
        """The current policy of that id (stored copy or shipped), or None."""
        if policy_id not in self._policies:
            self._policies[policy_id] = policies.find(policy_id)
        return self._policies[policy_id]

    def tenant(self, tenant_id: str) -> dict[str, Any] | None:
        """The customer tenant's document (docs/api.md, Tenant), or None."""
        if tenant_id not in self._tenants:
            self._tenants[tenant_id] = tenant_store.customer_doc(tenant_id)
        return self._tenants[tenant_id]

    def remember_policy(self, policy: Policy) -> None:
        """Seed with a policy just written (a read could still see the old one)."""
        self._policies[policy.id] = policy

    def remember_tenant(self, tenant_id: str, doc: dict[str, Any]) -> None:
        """Seed with a tenant document just written."""
        self._tenants[tenant_id] = doc
        self._bases = {k: v for k, v in self._bases.items() if k[0] != tenant_id}

    def basis(self, tenant_id: str) -> SlaBasis | None:
        """The SLA basis in force for the tenant's tickets (its current policy),
        or None when the tenant or its policy is gone."""
        tenant = self.tenant(tenant_id)
        policy = self.policy(tenant["policy"]) if tenant and tenant.get("policy") else None
        if tenant is None or policy is None:
            return None
        key = (tenant_id, policy.id, policy.version)
        if key not in self._bases:
            self._bases[key] = SlaBasis.of(policy, tenant)
        return self._bases[key]

    def in_force(self, tenant_id: str) -> SlaBasis:
        """What a re-plan of a ticket of this tenant reads (E7, E9): its tenant's
        current policy and terms, not the policy the ticket was last planned on.
        RuleRefused (422) when the tenant or its policy is gone."""
        basis = self.basis(tenant_id)
        if basis is None:
            raise RuleRefused(
                f"tenant {tenant_id} or its policy no longer exists: "
                "the ticket cannot be re-planned",
                code="policy_unavailable",
            )
        return basis
