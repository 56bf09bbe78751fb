"""Outside tests the default cache is shared by every process: the database cache, whose table a
fresh machine gets from `migrate` (as `make run` does), or Redis when CACHE_URL/REDIS_URL says so."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BACKEND = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
SHOW = (
    "from django.conf import settings; from django.core.cache import cache; "
    "print(settings.CACHES['default']['BACKEND']); cache.add('hits', 0); cache.incr('hits'); print(cache.incr('hits'))"
)


def manage(tmp_path, *args, **env_vars):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CACHE_URL", "REDIS_URL")}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.local", "KAFAAT_VAR_DIR": str(tmp_path), **env_vars}
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split("\n", 1)[1] if "imported automatically" in done.stdout else done.stdout


def test_a_fresh_machine_gets_the_database_cache_table_from_migrate(tmp_path):
    manage(tmp_path, "migrate", "--noinput")
    assert manage(tmp_path, "shell", "--no-imports", "-c", SHOW).split() == ["config.cache.DatabaseCache", "2"]


def test_cache_url_or_redis_url_choose_another_cache(tmp_path):
    from django.conf import settings

    redis_url = settings.CELERY_BROKER_URL  # the test run's own Redis database
    out = manage(
        tmp_path,
        "shell",
        "-c",
        BACKEND,
        REDIS_URL=redis_url,
    )
    assert out.split() == ["django.core.cache.backends.redis.RedisCache"]
    out = manage(
        tmp_path,
        "shell",
        "-c",
        BACKEND,
        CACHE_URL="locmemcache://",
        REDIS_URL=redis_url,
    )
    assert out.split() == ["django.core.cache.backends.locmem.LocMemCache"]
