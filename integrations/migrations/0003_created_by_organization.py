"""Record which university created each learner its sync or OneRoster import made before this
field existed: those with an invitation row (integrations.LearnerInvite is written for every
account the sync creates, and only for those) whose organization and external id are still the
university's. Accounts the old sync *adopted* by e-mail get nothing: no sync may change them."""

from django.db import migrations
from django.db.models import F


def forwards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.filter(
        learner_invite__isnull=False,
        organization_id=F("learner_invite__organization_id"),
        external_id__isnull=False,
        created_by_organization__isnull=True,
    ).update(created_by_organization_id=F("organization_id"))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_stand_ins_and_email_changes"),
        ("integrations", "0002_api_clients_webhooks_sync"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
