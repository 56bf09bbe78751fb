"""Create the benchmark database if needed and bring it to the latest migration. The benchmark
database holds nothing but generated data: if its migration history no longer matches the code
(migrations rewritten during development), it is dropped and made again."""

import os

import django
import environ
import psycopg
from django.core.management import call_command
from django.db import connections
from django.db.migrations.exceptions import InconsistentMigrationHistory

cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])


def admin_connection():
    return psycopg.connect(
        host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], dbname="postgres", autocommit=True
    )


def create(*, drop: bool = False) -> None:
    with admin_connection() as conn:
        if drop:
            conn.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
            conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


create()
django.setup()
try:
    call_command("migrate", verbosity=0)
except InconsistentMigrationHistory as exc:
    print(f"bench database {cfg['NAME']}: {exc}; making it again")
    connections.close_all()
    create(drop=True)
    call_command("migrate", verbosity=0)
