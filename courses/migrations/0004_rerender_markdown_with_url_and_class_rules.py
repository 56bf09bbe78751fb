"""Stored lesson bodies and assignment prompts were sanitized under looser rules (outside image
addresses such as `/\\host` or `https:host`, any `class`): render them again from their Markdown."""

from django.db import migrations


def rerender(apps, schema_editor):
    from courses.markdown import rerender_stored_html

    rerender_stored_html(lesson_model=apps.get_model("courses", "Lesson"),
                         version_model=apps.get_model("courses", "AssignmentVersion"))  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0003_course_import_job"),
    ]

    operations = [
        migrations.RunPython(rerender, migrations.RunPython.noop, elidable=True),
    ]
