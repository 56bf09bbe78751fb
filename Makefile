.PHONY: run test bench lint format
# Run the platform with demo content on the embedded defaults (SQLite, filesystem broker).
run:
	@bash scripts/run.sh
# The whole test suite: lint, migration check, pytest on PostgreSQL with real Celery workers.
test:
	@bash scripts/test.sh $(ARGS)
# Benchmarks: print figures, assert nothing.
bench:
	@bash scripts/bench.sh $(ARGS)
lint:
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .
format:
	@.venv/bin/ruff format . && .venv/bin/ruff check --fix .
