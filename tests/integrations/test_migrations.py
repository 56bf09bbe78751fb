"""integrations 0003 records which university created the learners its sync made before
`User.created_by_organization` existed, and no one else: an account the old sync *adopted* by
e-mail (the takeover of issue 12) must stay out of every later sync's reach."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0002_security_privacy"), ("integrations", "0002_api_clients_webhooks_sync")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_only_learners_a_sync_created_and_still_hold_are_marked_as_created_by_their_university():
    apps = _migrate(BEFORE)
    try:
        Organization = apps.get_model("accounts", "Organization")
        User = apps.get_model("accounts", "User")
        LearnerInvite = apps.get_model("integrations", "LearnerInvite")
        a, b = Organization.objects.create(slug="a", name="A"), Organization.objects.create(slug="b", name="B")
        synced = User.objects.create(email="s1@a.ma", organization=a, external_id="s1", password="!x")
        LearnerInvite.objects.create(user=synced, organization=a)
        adopted = User.objects.create(email="boss@a.ma", organization=a, external_id="boss", password="x",
                                      is_superuser=True, is_staff=True)  # fmt: skip
        moved = User.objects.create(email="s2@b.ma", organization=b, external_id="s2", password="!x")
        LearnerInvite.objects.create(user=moved, organization=a)  # created by A, now B's
        self_signup = User.objects.create(email="me@x.ma", password="x")
    finally:
        apps = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    User = apps.get_model("accounts", "User")
    created_by = dict(User.objects.values_list("pk", "created_by_organization_id"))
    assert created_by == {synced.pk: a.pk, adopted.pk: None, moved.pk: None, self_signup.pk: None}
