from django.db import migrations, models


class Migration(migrations.Migration):
    """The (assignment, user) index becomes a covering one (analytics and at-risk rules read it
    alone). On SQLite the INCLUDE columns are ignored."""

    dependencies = [("grading", "0004_reason_and_failure_codes")]

    operations = [
        migrations.RemoveIndex(model_name="submission", name="grading_sub_assign_user_idx"),
        migrations.AddIndex(
            model_name="submission",
            index=models.Index(
                fields=["assignment", "user"],
                include=["attempt", "status", "score", "max_score", "submitted_at"],
                name="grading_sub_assign_user_cover",
            ),
        ),
    ]
