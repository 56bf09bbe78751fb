"""Privacy collects each app's part of an export and of an erasure from the app registry
(privacy.hooks): it names no app, and reads no other app's tables itself."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from privacy import hooks
from privacy.services import export_sections
from tests.factories import UserFactory


def test_each_app_gives_its_own_part_and_the_user_models_app_erases_last():
    assert [label for label, _ in hooks.export_hooks()] == [
        "accounts",
        "courses",
        "grading",
        "certificates",
        "learning",
    ]
    erase = [label for label, _ in hooks.erase_hooks()]
    assert sorted(erase) == ["accounts", "certificates", "grading", "integrations", "learning", "roster"]
    assert erase[-1] == "accounts"  # the others may still read the user's fields (learner.erased)


@pytest.mark.django_db
def test_the_export_gives_every_apps_sections_with_the_profile_first():
    sections = export_sections(user=UserFactory())
    assert set(sections) == {"profile", "enrollments", "lesson_progress", "submissions", "consents",
                             "email_changes", "audit", "certificates", "notifications",
                             "notification_settings"}  # fmt: skip
    assert next(iter(sections)) == "profile"


@pytest.mark.django_db
def test_two_apps_giving_the_same_section_is_a_configuration_error(monkeypatch):
    def export(*, user):
        return {"profile": []}

    monkeypatch.setattr(hooks, "export_hooks", lambda: [("accounts", export), ("other", export)])
    with pytest.raises(ImproperlyConfigured, match="profile"):
        hooks.export_collect(user=UserFactory())
