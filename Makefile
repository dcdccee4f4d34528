# ticketgate: `make run` starts everything on embedded defaults, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test bench migrate clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python -m gateway.launch

test: $(STAMP)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

migrate: $(STAMP)
	$(VENV)/bin/alembic upgrade head

clean:
	rm -rf $(VENV) var .pytest_cache
