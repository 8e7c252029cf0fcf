"""Suite-wide: how `make test` shares the work between its two pytest processes
(pytest-xdist, `-n 2`)."""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

# A folder whose tests run whole, in collection order, in one process: the integration
# suite shares one moto for the session, and test_iam.py (last) compares the operations
# of EVERY integration test with the roles; the e2e tests share one local stack.
WHOLE = ("tests/integration/", "tests/e2e/")


class FolderScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """xdist's scope scheduling with a whole folder as one scope (the biggest first);
    any other test is a unit of its own, sent to whichever process is free."""

    def _split_scope(self, nodeid: str) -> str:
        return next((folder for folder in WHOLE if nodeid.startswith(folder)), nodeid)


def pytest_xdist_make_scheduler(config: Any, log: Any) -> FolderScheduling:
    return FolderScheduling(config, log)
