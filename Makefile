# The developer interface: `make dev` runs everything locally, `make test` checks everything.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test lint types unit integration e2e bench package clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# make dev [API_PORT=8000] [AWS_PORT=5000] [V=1 for every log line]
API_PORT ?= 8000
AWS_PORT ?= 5000
dev: $(STAMP)
	@$(BIN)/python -m dev.local_stack --api-port $(API_PORT) --aws-port $(AWS_PORT) $(if $(V),-v)

test: $(STAMP) lint types
	$(BIN)/python -m pytest

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

package: $(STAMP)
	rm -rf out && AWS_DEFAULT_REGION=us-east-1 $(BIN)/chalice package --stage prod \
		--pkg-format cloudformation --merge-template infra/resources.json out/
	$(BIN)/cfn-lint out/sam.json

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .hypothesis
