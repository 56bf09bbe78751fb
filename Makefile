.PHONY: run test bench lint format messages
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
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && PYTHONPATH=platform .venv/bin/lint-imports --no-cache --no-logo
format:
	@.venv/bin/ruff format . && .venv/bin/ruff check --fix .
# Translation catalogs (fr, ar, en): extract every marked string, compile the .mo files (committed),
# then report what is still untranslated. Needs GNU gettext (Debian package `gettext`).
messages:
	@DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python manage.py makemessages -l fr -l ar -l en \
		--no-location --ignore=.venv --ignore=node_modules --ignore=var --ignore=tests --ignore=bench
	@.venv/bin/python scripts/pending_translations.py
	@DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python manage.py compilemessages \
		--ignore=.venv --ignore=node_modules --ignore=var
	@.venv/bin/python -m pytest -q -p no:cacheprovider tests/learning/test_catalogs.py
