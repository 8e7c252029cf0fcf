# The developer interface: `make dev` runs everything locally, `make test` checks everything.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Operator tools (samtranslator, the AWS CLI) in a virtualenv of their own: their
# pins (pydantic, botocore) are not the app's.
TOOLS := .venv-infra
TOOLS_STAMP := $(TOOLS)/.installed
REGION ?= us-east-1
ALERT_EMAIL ?=
# Warm throughput (docs/operations.md, Deploy): passed to the stack only when given,
# so an update without them keeps the stack's values (they can never be lowered).
WARM_TABLE_WRITE_UNITS ?=
WARM_INDEX_WRITE_UNITS ?=

.PHONY: dev test lint types unit integration e2e bench package deploy clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

$(TOOLS_STAMP): infra/requirements.txt
	test -x $(TOOLS)/bin/python || $(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --no-compile --disable-pip-version-check -r infra/requirements.txt
	touch $(TOOLS_STAMP)

# make dev [API_PORT=8000] [AWS_PORT=5000] [V=1 for every log line]
API_PORT ?= 8000
AWS_PORT ?= 5000
dev: $(STAMP)
	@$(BIN)/python -m dev.local_stack --api-port $(API_PORT) --aws-port $(AWS_PORT) $(if $(V),-v)

# Two at a time: the two virtualenvs, then the checks (lint, types, package); then
# pytest in two processes (tests/conftest.py: the integration suite whole in one).
test:
	@$(MAKE) --no-print-directory -j2 --output-sync=target lint types package
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e

bench: $(STAMP)
	$(BIN)/python -m bench.calendar
	$(BIN)/python -m bench.checker
	$(BIN)/python -m bench.coldstart
	$(BIN)/python -m bench.requests
	$(BIN)/python -m bench.simulate
	$(BIN)/python -m bench.burst

# out/sam.json + out/deployment.zip (the dependency zip is cached in
# .chalice/deployments/), the SAM transform expanded offline into
# out/expanded.json, cfn-lint on both and checkov on the expanded template
# (its accepted exceptions: infra/checkov.yaml, docs/operations.md).
package: $(STAMP) $(TOOLS_STAMP)
	rm -rf out && AWS_DEFAULT_REGION=$(REGION) $(BIN)/chalice package --stage prod \
		--pkg-format cloudformation --merge-template infra/resources.json out/
	AWS_DEFAULT_REGION=$(REGION) $(TOOLS)/bin/python -m infra.expand out/sam.json out/expanded.json
	$(BIN)/cfn-lint out/sam.json out/expanded.json
	$(TOOLS)/bin/checkov --quiet --compact --skip-download --config-file infra/checkov.yaml \
		--file out/expanded.json

# make deploy STACK=slaguard-prod BUCKET=my-artifacts [REGION=eu-west-1] [ALERT_EMAIL=ops@example.com]
#             [WARM_TABLE_WRITE_UNITS=30000] [WARM_INDEX_WRITE_UNITS=7000]
#             [TICKET_LISTS=legacy|own]
# (docs/deploy.md). Upload the zip, create or update the stack through a change
# set, bootstrap the provider tenant against the stack's outputs (prints an admin
# key), then print the API's URL.
deploy:
	@test -n "$(STACK)" -a -n "$(BUCKET)" || \
		{ echo "usage: make deploy STACK=<stack name> BUCKET=<S3 bucket> [REGION=..] [ALERT_EMAIL=..]" \
			"[WARM_TABLE_WRITE_UNITS=..] [WARM_INDEX_WRITE_UNITS=..] [TICKET_LISTS=..]"; exit 2; }
	@$(MAKE) --no-print-directory package REGION=$(REGION)
	$(TOOLS)/bin/aws cloudformation package --region $(REGION) --use-json \
		--template-file out/sam.json --s3-bucket $(BUCKET) --s3-prefix $(STACK) \
		--output-template-file out/packaged.json
	$(TOOLS)/bin/aws cloudformation deploy --region $(REGION) --stack-name $(STACK) \
		--template-file out/packaged.json --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
		--parameter-overrides AlertEmail=$(ALERT_EMAIL) \
			$(if $(WARM_TABLE_WRITE_UNITS),WarmTableWriteUnits=$(WARM_TABLE_WRITE_UNITS)) \
			$(if $(WARM_INDEX_WRITE_UNITS),WarmIndexWriteUnits=$(WARM_INDEX_WRITE_UNITS)) \
			$(if $(TICKET_LISTS),TicketLists=$(TICKET_LISTS)) \
		--no-fail-on-empty-changeset
	AWS_DEFAULT_REGION=$(REGION) $(BIN)/python -m chalicelib.cli bootstrap --stack $(STACK)
	AWS_DEFAULT_REGION=$(REGION) $(BIN)/python -m chalicelib.cli api-url --stack $(STACK)

clean:
	rm -rf $(VENV) $(TOOLS) out .mypy_cache .ruff_cache .hypothesis
