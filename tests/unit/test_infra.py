"""The cloud template carries the same table definitions the local stack uses."""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.store import schema
from infra import build

ROOT = Path(__file__).resolve().parents[2]


def test_committed_template_is_what_infra_build_writes() -> None:
    committed = (ROOT / "infra" / "resources.json").read_text()
    assert committed == build.render(), "run: python -m infra.build"


def test_the_template_tables_are_the_store_schema() -> None:
    resources = json.loads(build.render())["Resources"]
    assert resources["Table"]["Properties"] == schema.MAIN_TABLE
    assert resources["IdempotencyTable"]["Properties"] == schema.IDEMPOTENCY_TABLE
    index_names = {i["IndexName"] for i in schema.MAIN_TABLE["GlobalSecondaryIndexes"]}
    assert {schema.DUE_INDEX, schema.OUTBOX_INDEX, schema.BY_TENANT_INDEX} <= index_names


def test_every_stage_names_its_tables_and_topic() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage in ("dev", "test", "prod"):
        env = config["stages"][stage]["environment_variables"]
        assert {"TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "ALERTS_TOPIC_ARN"} <= set(env)
    assert config["stages"]["dev"]["environment_variables"]["ALERTS_TOPIC_ARN"].endswith(
        ":slaguard-alerts"
    )
