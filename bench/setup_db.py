"""Create the benchmark database if needed and bring it to the latest migration."""

import os

import django
import environ
import psycopg
from django.core.management import call_command

cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])
with psycopg.connect(
    host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], dbname="postgres", autocommit=True
) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone():
        conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')

django.setup()
call_command("migrate", verbosity=0)
