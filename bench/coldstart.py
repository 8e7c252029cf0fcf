"""Cold start: `import app` against the import of its dependencies (issue 14); not a test.

A Lambda's cold start pays for importing the handler's module. The floor is what
slaguard cannot avoid: its dependencies (chalice, boto3, pynamodb.models, pydantic,
Powertools' Logger and Metrics). Each figure is the best of 7 fresh processes
(`python -X importtime` is not used: it slows the imports it measures).
Goal: `import app` within 1.3x the dependencies' import.

    python -m bench.coldstart [--runs 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 1.3

DEPENDENCIES = (
    "import chalice.app, boto3, pynamodb.models, pydantic\n"
    "from aws_lambda_powertools import Logger, Metrics\n"
)
# The issue's floor predates X-Ray: Powertools' Tracer (the X-Ray SDK, patching
# botocore) is a dependency the stack added since, so the floor is shown with it too.
WITH_TRACER = DEPENDENCIES + "from aws_lambda_powertools import Tracer\nTracer(service='x')\n"
CASES = {
    "dependencies": DEPENDENCIES,
    "dependencies + Powertools Tracer": WITH_TRACER,
    "import app": "import app\n",
    # what the first request or run adds on top of the import (not part of the goal):
    # a checker worker loads the checker, never the API's request models
    "import app + the checker (a worker)": "import app\nimport chalicelib.services.checker\n",
    "import app + POST /tickets' modules": (
        "import app\nimport chalicelib.commands, chalicelib.api.models\n"
        "import chalicelib.services.tickets\n"
    ),
}


def best_ms(code: str, runs: int) -> float:
    timed = (
        f"import time\n_t = time.perf_counter()\n{code}print((time.perf_counter() - _t) * 1000)\n"
    )
    times = []
    for _ in range(runs):
        out = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
            [sys.executable, "-c", timed],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    figures = {name: best_ms(code, args.runs) for name, code in CASES.items()}
    floor = figures["dependencies"]
    for name, ms in figures.items():
        print(f"{name:<40} {ms:7.1f} ms  ({ms / floor:.2f}x the dependencies)")
    ratio = figures["import app"] / floor
    print(
        f"cold import: app {figures['import app']:.0f} ms / dependencies {floor:.0f} ms "
        f"= {ratio:.2f}x (goal <= {GOAL})"
    )
    traced = figures["dependencies + Powertools Tracer"]
    print(
        f"cold import: app {figures['import app']:.0f} ms / dependencies with Tracer "
        f"{traced:.0f} ms = {figures['import app'] / traced:.2f}x"
    )


if __name__ == "__main__":
    main()
