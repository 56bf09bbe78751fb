"""Django's database cache with an atomic `incr`: the default cache (README, Configuration), which
holds the API's rate counters for every web process. Django's own incr reads then writes, so two
processes counting at once lose a hit; here the row is locked first (SELECT ... FOR UPDATE on
PostgreSQL; SQLite's immediate transactions serialize writers anyway)."""

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router, transaction


class DatabaseCache(DjangoDatabaseCache):
    def incr(self, key, delta=1, version=None):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        cache_key = self.make_and_validate_key(key, version=version)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db):
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT cache_key FROM {table} WHERE cache_key = %s{lock}", [cache_key])  # noqa: S608
            return super().incr(key, delta, version)
