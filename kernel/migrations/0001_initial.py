"""kernel.OutboxEvent: the outbox model moves here from integrations, in the state only. Its
table (integrations_outboxevent) and index were created by integrations' migrations and stay."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("integrations", "0003_created_by_organization"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OutboxEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("event_type", models.CharField(max_length=64)),
                        ("payload", models.JSONField()),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("dispatched_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "organization",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="events",
                                to="accounts.organization",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "integrations_outboxevent",
                        "ordering": ["id"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(("dispatched_at__isnull", True)),
                                fields=["id"],
                                name="integ_outbox_undispatched_idx",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
