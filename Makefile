# ticketgate: `make run` starts everything on embedded defaults, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test fuzz bench migrate clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python -m gateway.ops.launch

test: $(STAMP)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# The fuzzer for longer than the suite's fixed budget, with a fresh seed each run; failing
# inputs land in var/fuzz-crashers (make each one a fixture in tests/channels/fixtures/crashers).
FUZZ_EXAMPLES ?= 5000
FUZZ_MUTATIONS ?= 1000
FUZZ_SEED ?= $(shell date +%s)
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_MUTATIONS=$(FUZZ_MUTATIONS) FUZZ_SEED=$(FUZZ_SEED) \
	FUZZ_SAVE_DIR=var/fuzz-crashers $(VENV)/bin/python -m pytest -q tests/fuzz $(PYTEST_ARGS)

migrate: $(STAMP)
	$(VENV)/bin/alembic upgrade head

clean:
	rm -rf $(VENV) var .pytest_cache
