# Developer tasks. `make test` is the README's test command minus the install.
PY ?= .venv/bin/python

.PHONY: test check lint screenshots bench reliability
test:
	$(PY) -m pytest

check: lint
	$(PY) -m mypy review
	.venv/bin/lint-imports

lint:
	$(PY) -m ruff check review tui tests benchmarks scripts
	$(PY) -m ruff format --check review tui tests benchmarks scripts

screenshots:
	$(PY) scripts/screenshots.py

bench:
	$(PY) -m benchmarks
