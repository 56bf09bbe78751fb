"""Path converters. `<id:pk>` replaces Django's `<int:pk>` on every page route: an id past the
range of our id columns (PostgreSQL bigint: every primary key is a BigAutoField) names nothing,
so it is a 404 at URL resolution, before any view or query sees it (SQLite, the embedded
database, cannot even bind such a number: OverflowError, a 500).

Importing this module registers the converter; config.urls and every urls.py that uses it import
it first."""

from django.urls import register_converter

ID_MAX = 2**63 - 1  # PostgreSQL bigint, SQLite INTEGER


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > ID_MAX:
            raise ValueError("past the id columns' range")
        return number

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")
