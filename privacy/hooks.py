"""The parts of an export and of an erasure that each app gives. An app's AppConfig names them as
dotted paths to functions in that app's own `privacy.py`:

    privacy_export = "grading.privacy.export"   # export(*, user) -> {section name: [row, ...]}
    privacy_erase = "grading.privacy.erase"     # erase(*, user, now, reason) -> None

so privacy knows no app by name and never reads or writes another app's tables itself. Export
sections come in the order of INSTALLED_APPS; an erasure runs the app that owns the user model
last, because the other hooks may still read the user's fields."""

from collections.abc import Callable

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


def _hooks(attribute: str) -> list[tuple[str, Callable]]:
    return [
        (config.label, import_string(path))
        for config in apps.get_app_configs()
        if (path := getattr(config, attribute, None))
    ]


def export_hooks() -> list[tuple[str, Callable]]:
    """(app label, export function) of every installed app that gives a part of an export."""
    return _hooks("privacy_export")


def erase_hooks() -> list[tuple[str, Callable]]:
    """(app label, erase function) of every installed app that gives a part of an erasure, the
    user model's own app last."""
    user_app = settings.AUTH_USER_MODEL.split(".")[0]
    return sorted(_hooks("privacy_erase"), key=lambda hook: hook[0] == user_app)


def export_collect(*, user) -> dict[str, list[dict]]:
    """Every app's sections for the user, in one dict. Two apps giving the same section name is
    a configuration error (one would hide the other's rows)."""
    sections: dict[str, list[dict]] = {}
    for label, export in export_hooks():
        part = export(user=user)
        if clash := sections.keys() & part.keys():
            raise ImproperlyConfigured(f"{label}.privacy_export gives sections already given: {sorted(clash)}")
        sections.update(part)
    return sections


def erase_collect(*, user, now, reason: str) -> None:
    """Run every app's part of the erasure, in the caller's transaction."""
    for _label, erase in erase_hooks():
        erase(user=user, now=now, reason=reason)
