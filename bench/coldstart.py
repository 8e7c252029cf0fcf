"""Cold start: `import app` against the import of its dependencies (issue 14); not a test.

A Lambda's cold start pays for importing the handler's module. The floor is what
slaguard cannot avoid: its dependencies (chalice, boto3, pynamodb.models, pydantic,
Powertools' Logger and Metrics). Each figure is the best of 7 fresh processes
(`python -X importtime` is not used: it slows the imports it measures).
Goal: `import app` within 1.3x the dependencies' import.

Each process runs in a Lambda's environment as far as imports tell it apart:
`LAMBDA_TASK_ROOT` set, as Lambda sets it. The X-Ray SDK reads it at import: outside
Lambda it builds a centralized sampler with its own botocore client (about 150 ms)
that it never uses inside one (aws-xray-sdk-python issues 273 and 311), so without
it the figure would measure a cold start no function has. `--outside-lambda` shows
that one too.

    python -m bench.coldstart [--runs 7]
"""

from __future__ import annotations

import argparse
import json
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
# botocore as app.py does) is a dependency the stack added since, so `import app`
# pays for it within its 1.3x; the floor is also shown with it, for reference.
WITH_TRACER = (
    DEPENDENCIES
    + "from aws_lambda_powertools import Tracer\n"
    + "Tracer(service='x', patch_modules=('botocore',))\n"
)
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


def once_ms(code: str, env: dict[str, str], clock: str = "perf_counter") -> float:
    """One fresh process: how long `code` takes to run there, in ms, by `clock`
    (`time.perf_counter`, or `time.process_time` for the process's CPU alone)."""
    timed = f"import time\n_t = time.{clock}()\n{code}print((time.{clock}() - _t) * 1000)\n"
    out = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", timed],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return float(out.stdout.strip().splitlines()[-1])


def best_ms(
    cases: dict[str, str], runs: int, env: dict[str, str], clock: str = "perf_counter"
) -> dict[str, float]:
    """The best of `runs` for each case, the cases taken in turn within each round so
    that a change in the machine's load falls on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, code in cases.items():
            times[name].append(once_ms(code, env, clock))
    return {name: min(each) for name, each in times.items()}


def lambda_environment(outside: bool = False) -> dict[str, str]:
    """A fresh process's environment: a Lambda's as far as imports tell (see above),
    with the variables .chalice/config.json gives every function (among them
    PYDANTIC_DISABLE_PLUGINS: pydantic looks for no plugin in every installed
    package's metadata when it builds its first model)."""
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"}
    config = json.loads((ROOT / ".chalice" / "config.json").read_text("utf-8"))
    env.update(config.get("environment_variables", {}))
    if not outside:
        env["LAMBDA_TASK_ROOT"] = str(ROOT)
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--outside-lambda", action="store_true", help="without LAMBDA_TASK_ROOT (see above)"
    )
    args = parser.parse_args()
    env = lambda_environment(outside=args.outside_lambda)
    print("outside a Lambda's environment" if args.outside_lambda else "LAMBDA_TASK_ROOT set")
    figures = best_ms(CASES, args.runs, env)
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
