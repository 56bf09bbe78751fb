"""DataExport and DeletionRequest move from accounts to privacy: the state only. Their tables,
rows and constraints stay as accounts created them (db_table keeps the old names), and their
content types (so the admin permissions granted on them) follow the models."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ("dataexport", "deletionrequest")


def content_types_follow(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not content_type.objects.filter(app_label="privacy", model=model).exists():
            content_type.objects.filter(app_label="accounts", model=model).update(app_label="privacy")


def content_types_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not content_type.objects.filter(app_label="accounts", model=model).exists():
            content_type.objects.filter(app_label="privacy", model=model).update(app_label="accounts")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0004_stand_ins_and_email_changes"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="DataExport",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),  # fmt: skip
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Being prepared"),
                                    ("ready", "Ready"),
                                    ("failed", "Failed"),
                                    ("expired", "Expired"),
                                ],
                                default="pending",
                                max_length=16,
                            ),
                        ),
                        ("file_path", models.CharField(blank=True, max_length=255)),
                        ("requested_at", models.DateTimeField(auto_now_add=True)),
                        ("ready_at", models.DateTimeField(blank=True, null=True)),
                        ("expires_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="data_exports",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_dataexport",
                        "ordering": ["-requested_at"],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("status", "pending")),
                                fields=("user",),
                                name="accounts_export_one_pending",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="DeletionRequest",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),  # fmt: skip
                        (
                            "status",
                            models.CharField(
                                choices=[("pending", "Scheduled"), ("cancelled", "Cancelled"), ("done", "Done")],
                                default="pending",
                                max_length=16,
                            ),
                        ),
                        ("requested_at", models.DateTimeField(auto_now_add=True)),
                        ("effective_at", models.DateTimeField()),
                        ("done_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="deletion_requests",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "accounts_deletionrequest",
                        "ordering": ["-requested_at"],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("status", "pending")),
                                fields=("user",),
                                name="accounts_deletion_one_pending",
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, content_types_back, elidable=False),
    ]
