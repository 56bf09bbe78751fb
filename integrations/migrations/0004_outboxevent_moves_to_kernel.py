"""The outbox model moves to kernel (state only: the table and its rows stay where they are);
webhook deliveries point at kernel.OutboxEvent."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0003_created_by_organization"),
        ("kernel", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="webhookdelivery",
                    name="event",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="deliveries", to="kernel.outboxevent"
                    ),
                ),
                migrations.DeleteModel(name="OutboxEvent"),
            ],
            database_operations=[],
        ),
    ]
