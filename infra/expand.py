"""Expands the SAM transform of the packaged template offline, into the plain
CloudFormation that CloudFormation itself would create (a second cfn-lint pass
and the stack test read it):

    .venv-infra/bin/python -m infra.expand out/sam.json out/expanded.json

Runs in the operator tools' virtualenv (infra/requirements.txt), never imports
the app. samtranslator only accepts an uploaded `CodeUri` (`s3://…`), so a local
zip is named by a placeholder S3 URI, as `aws cloudformation package` would.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

PLACEHOLDER_CODE_URI = "s3://slaguard-artifacts/deployment.zip"


class NoManagedPolicies:
    """The stack names no AWS managed policy (each function has its own role), so
    the translator never needs IAM's list of them (it would call AWS)."""

    def load(self) -> dict[str, str]:
        return {}


def expand(template: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and not str(
            props.get("CodeUri", "")
        ).startswith("s3://"):
            props["CodeUri"] = PLACEHOLDER_CODE_URI
    expanded: dict[str, Any] = transform(template, parameters or {}, NoManagedPolicies())  # type: ignore[arg-type]
    return expanded


def main(argv: list[str]) -> int:
    source, target = Path(argv[0]), Path(argv[1])
    expanded = expand(json.loads(source.read_text()))
    target.write_text(json.dumps(expanded, indent=2, sort_keys=True) + "\n")
    sys.stdout.write(f"wrote {target} ({len(expanded['Resources'])} resources)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
