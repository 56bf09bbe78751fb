"""A small site for page-level browser checks: a path with a competency, a course with a lesson
and a graded quiz, a learner with a certificate and notifications, and the course's instructor."""

from datetime import timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from certificates import services as certificate_services
from courses import archive, banks
from courses import services as course_services
from courses.models import Competency, CourseImportJob, Enrollment
from grading.models import GradeRecord, Submission
from learning import services as learning_services
from tests.courses.images import PNG_COVER
from tests.factories import LessonFactory, ModuleFactory, PathFactory, UserFactory, add_to_path, enroll, make_quiz


def _awaiting_replace(instructor, course) -> CourseImportJob:
    """The instructor's upload of the course's own archive, awaiting the confirmation of the
    replace; its summary says a module is added (its page shows the summary and the checkbox)."""
    course.assignments.filter(slug="").update(slug="csv-quiz")  # as the export names it
    data = archive.course_export(course=course)
    parsed = archive.archive_read(data)
    parsed["modules"].append({"title": "A new module", "lessons": []})
    summary = archive.archive_changes(parsed=parsed, user=instructor, update=True)
    return CourseImportJob.objects.create(
        requested_by=instructor, file_name="course.zip", update=True, archive=data,
        status=CourseImportJob.Status.AWAITING, summary={**summary, "inflated_bytes": len(data)},
    )  # fmt: skip


def build() -> dict:
    learner = UserFactory(full_name="Amina Benali")
    instructor = UserFactory(full_name="Karim Instructor")
    path = PathFactory(title="Data science for hospitals")
    competency = Competency.objects.create(code="data-cleaning", name="Data cleaning")
    path.competencies.add(competency)
    module = ModuleFactory(course__title="Python for health data", course__summary="Pandas, CSV and care data.")
    module.course.instructors.add(instructor)
    add_to_path(path, module.course, 1)
    course_services.cover_store(course=module.course, data=PNG_COVER)  # the catalogue shows it
    lesson = LessonFactory(module=module, title="Reading CSV files", body_markdown="# CSV\n\nSome *text*.")
    quiz = make_quiz(module=module, title="CSV quiz", points=10, due_at=timezone.now() + timedelta(days=1))
    quiz.competencies.add(competency)
    enrollment = enroll(learner, module.course)
    sub = Submission.objects.create(
        user=learner, assignment=quiz, version=quiz.current_version, attempt=1, answer={"q1": ["a"], "q2": ["a"]},
        status="graded", score=Decimal("5.00"), max_score=Decimal("10.00"), graded_at=timezone.now(),
        feedback={"questions": [{"id": "q1", "correct": True, "feedback": "Yes."},
                                {"id": "q2", "correct": False, "feedback": "Count again."}]},
    )  # fmt: skip
    GradeRecord.objects.create(submission=sub, score=sub.score, max_score=sub.max_score, source="auto")
    learning_services.notification_for_submission(submission=sub)
    enrollment.completed_at = timezone.now()
    enrollment.save()
    # Enrolled three weeks ago: the analytics' weekly line charts have several points to join.
    Enrollment.objects.filter(pk=enrollment.pk).update(created_at=timezone.now() - timedelta(weeks=3))
    certificate = certificate_services.certificate_issue(user_id=learner.pk, course_id=module.course.pk)
    code = module.course.code
    # The studio's builders show the course's files (a dataset, an artifact) and its banks.
    course_services.course_file_add(user=instructor, course=module.course, name="admissions.csv",
                                    content=b"service,age\nurgences,34\n")  # fmt: skip
    course_services.course_file_add(user=instructor, course=module.course, name="auth.log", content=b"sshd: ok\n")
    bank_question = {"id": "b1", "type": "single", "prompt": "CSV?", "points": 1,
                     "choices": [{"id": "a", "text": "Yes"}, {"id": "b", "text": "No"}], "answer": ["a"]}  # fmt: skip
    banks.question_bank_save(user=instructor, course=module.course, competency=competency, questions=[bank_question])
    import_job = _awaiting_replace(instructor, module.course)
    learner_pages = {
        "catalogue": reverse("courses:catalogue"),
        "course": reverse("courses:detail", args=[code]),
        "lesson": reverse("courses:lesson", args=[code, lesson.pk]),
        "quiz": reverse("courses:assignment", args=[code, quiz.pk]),
        "submission": reverse("grading:submission", args=[sub.pk]),
        "dashboard": reverse("learning:dashboard"),
        "path-progress": reverse("learning:path-progress", args=[path.code]),
        "grades": reverse("learning:grades"),
        "notifications": reverse("learning:notifications"),
        "certificates": reverse("certificates:list"),
        "certificate": reverse("certificates:detail", args=[certificate.id]),
        # Account pages (issue 6).
        "me": reverse("accounts:me"),
        "privacy": reverse("accounts:privacy"),
        "sessions": reverse("accounts:sessions"),
        "password-change": reverse("accounts:password-change"),
    }
    public_pages = {
        "login": reverse("accounts:login"),
        "signup": reverse("accounts:signup"),
        "verify": reverse("certificates:verify", args=[certificate.id]),
        "verify-unknown": reverse("certificates:verify", args=["00000000-0000-4000-8000-000000000000"]),
    }
    instructor_pages = {
        "course-as-instructor": reverse("courses:detail", args=[code]),
        "quiz-as-instructor": reverse("courses:assignment", args=[code, quiz.pk]),
        # Authoring (issue 3).
        "author-home": reverse("courses:author-home"),
        "author-outline": reverse("courses:author-outline", args=[code]),
        "author-assignment-new": reverse("courses:author-assignment-new", args=[code, module.pk]) + "?kind=quiz",
        "author-assignment-edit": reverse("courses:author-assignment-edit", args=[code, quiz.pk]),
        # The studio (issue 14): each kind's builder, the source tab, the preview, banks, files.
        **{
            f"author-builder-{kind}": reverse("courses:author-assignment-new", args=[code, module.pk]) + f"?kind={kind}"
            for kind in ("code", "flag", "essay")
        },
        "author-assignment-source": reverse("courses:author-assignment-edit", args=[code, quiz.pk]) + "?mode=source",
        "author-assignment-preview": reverse("courses:author-assignment-preview", args=[code, quiz.pk]),
        "author-banks": reverse("courses:author-banks", args=[code]),
        "author-bank-edit": reverse("courses:author-bank-edit", args=[code, competency.code]),
        "author-files": reverse("courses:author-files", args=[code]),
        "author-course-new": reverse("courses:author-course-new"),
        "author-path-new": reverse("courses:author-path-new"),
        "author-lesson-edit": reverse("courses:author-lesson-edit", args=[code, lesson.pk]),
        "author-import": reverse("courses:author-import"),
        "author-import-summary": reverse("courses:author-import-job", args=[import_job.pk]),
        "author-course-edit": reverse("courses:author-course-edit", args=[code]),
        "author-paths": reverse("courses:author-paths"),
        "author-path-edit": reverse("courses:author-path-edit", args=[path.code]),
        # Gradebook and analytics (issue 8).
        "teach": reverse("analytics:index"),
        "gradebook": reverse("analytics:gradebook", args=[code]),
        "course-analytics": reverse("analytics:course", args=[code]),
        "assignment-analytics": reverse("analytics:assignment", args=[code, quiz.pk]),
        "override": reverse("analytics:override", args=[code, learner.pk, quiz.pk]),
        "path-analytics": reverse("analytics:path", args=[path.code]),
    }
    return {
        "learner": learner,
        "instructor": instructor,
        "learner_pages": learner_pages,
        "public_pages": public_pages,
        "instructor_pages": instructor_pages,
    }
