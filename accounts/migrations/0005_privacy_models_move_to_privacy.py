"""DataExport and DeletionRequest now belong to the privacy app (privacy 0001 takes them over):
accounts forgets them in its state only; the tables stay, under their old names."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_stand_ins_and_email_changes"),
        ("privacy", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="DataExport"),
                migrations.DeleteModel(name="DeletionRequest"),
            ],
        ),
    ]
