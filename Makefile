# Developer tasks. `make test` is the README's test command minus the install.
PY ?= .venv/bin/python

.PHONY: test check lint screenshots bench reliability schema
test:
	$(PY) -m pytest

check: lint
	$(PY) -m mypy review tui
	.venv/bin/lint-imports

lint:
	$(PY) -m ruff check review tui tests benchmarks scripts reliability tools
	$(PY) -m ruff format --check review tui tests benchmarks scripts reliability tools

screenshots:
	$(PY) scripts/screenshots.py

bench:
	$(PY) -m benchmarks

# review/schema_expected.py from a replay of every migration (after adding one; a test checks it).
schema:
	$(PY) -m review.schema --write

# The full reliability suite (>= 100 kill trials; about 15 minutes). CI runs the reduced form
# inside pytest (tests/test_reliability.py).
reliability:
	$(PY) -m reliability
