from django.db import migrations, models
from django.db.models import Exists, Max, OuterRef

from kernel.schema import AddIndexConcurrentlyOnPostgres

BATCH = 20_000


def backfill(apps, schema_editor):
    """Mark each learner's latest graded attempt per assignment (grading.selectors'
    latest_graded_computed, as it stands when this runs), a batch of ids at a time, each batch its
    own commit (this migration is not atomic): no long transaction or lock on a big table. A grade
    written meanwhile refreshes its own pair (grade_record), so the two agree."""
    Submission = apps.get_model("grading", "Submission")
    later = Submission.objects.filter(
        user_id=OuterRef("user_id"), assignment_id=OuterRef("assignment_id"), status="graded",
        attempt__gt=OuterRef("attempt"),
    )  # fmt: skip
    top = Submission.objects.aggregate(m=Max("id"))["m"] or 0
    for start in range(0, top, BATCH):
        Submission.objects.filter(id__gt=start, id__lte=start + BATCH, status="graded").exclude(Exists(later)).update(
            is_latest_graded=True
        )


class Migration(migrations.Migration):
    """Submission.is_latest_graded, maintained by grading.services.latest_graded_refresh, and its
    partial index. Adding a column with a constant default rewrites no row on PostgreSQL 11+; the
    backfill runs in batches and the index is built CONCURRENTLY, so none of it blocks grading on a
    big table."""

    atomic = False

    dependencies = [("grading", "0005_submission_covering_index")]

    operations = [
        migrations.AddField(
            model_name="submission",
            name="is_latest_graded",
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        AddIndexConcurrentlyOnPostgres(
            model_name="submission",
            index=models.Index(
                condition=models.Q(is_latest_graded=True),
                fields=["assignment", "user"],
                include=["score", "max_score"],
                name="grading_sub_latest_graded",
            ),
        ),
    ]
