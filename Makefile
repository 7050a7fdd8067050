# The two commands of the README: `make pipeline` and `make test`.
VENV ?= .venv
PYTEST_ARGS ?=

.PHONY: setup pipeline test test-all
setup:
	./scripts/setup.sh

pipeline: setup
	$(VENV)/bin/bnn-lq pipeline

test: setup
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)
