"""A small site for page-level browser checks, and the one list of the page states a learner, an
instructor, a reviewer or a university admin can reach: a path with a competency, a course with a
lesson, a graded quiz and a code, a flag and an essay assignment (each with a submission), a
learner with a certificate and notifications, the course's instructor (who reviews its essays)
and a university admin. tests/browser/test_site_coverage.py fails when a page of the URL matrix
(tests/security/url_matrix.py) has no state here and no reason to be left out (EXCUSED)."""

from datetime import timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from assessment import kinds
from certificates import services as certificate_services
from courses import archive, banks
from courses import services as course_services
from courses.models import Competency, CourseFile, CourseImportJob, Enrollment
from grading import services as grading_services
from grading.models import GradeRecord, RegradeJob, Submission
from learning import services as learning_services
from tests.assessment import deid_fixtures, fhir_fixtures, sql_fixtures
from tests.courses.images import PNG_COVER
from tests.factories import (
    LessonFactory,
    ModuleFactory,
    OrganizationFactory,
    PathFactory,
    UserFactory,
    add_to_path,
    enroll,
    make_quiz,
)
from tests.grading.helpers import CODE_SPEC, ESSAY_SPEC, make_assignment

# The health-data kinds (issue 16): each kind's example spec, its right and wrong answers and the
# course files its builder offers (tests/assessment/<kind>_fixtures.py).
HEALTH_KINDS = {"sql": sql_fixtures, "deid": deid_fixtures, "fhir": fhir_fixtures}

# GET-able pages of the URL matrix that have no state here, each with its reason.
EXCUSED = {
    "healthz": "a probe for the load balancer: plain text, no page",
    "readyz": "a probe for the load balancer: plain text, no page",
    "accounts:export-download": "a file download (the learner's data export, a ZIP)",
    "api_v1:schema": "the API's OpenAPI schema: YAML/JSON, no page",
    "api_v1:docs": "drf-spectacular's Swagger UI for API clients, not a page of ours",
    "admin:login": "Django's admin, for platform staff: Django's own templates",
    "courses:author-export": "a file download (the course archive, a ZIP)",
    "courses:file": "a file download (a course file)",
    "courses:cover": "an image (a course's cover)",
    "grading:submission-status": "the htmx fragment of grading:submission, checked inside that page",
    "analytics:export": "a file download (the gradebook, CSV)",
    "analytics:export_status": "the htmx fragment of an export's progress, on the gradebook page",
    "analytics:oneroster_export": "a file download (a roster class's gradebook, a OneRoster zip)",
    "certificates:issuer": "the issuer's Open Badges profile: JSON-LD, no page",
    "certificates:issuer-key": "the issuer's public key: JSON, no page",
    "certificates:pdf": "a file download (the certificate, PDF)",
    "certificates:credential": "the signed credential: JSON, no page",
    "lti-jwks": "the LTI tool's public key set: JSON, no page",
    "lti-login": "an LTI launch's first step, in an LMS's frame: tests/browser/test_lti_*.py open it from the test LMS",
    "lti-roster": "needs an instructor's LTI launch: test_lti_registration_roster.py opens it from the test LMS",
}
# Whole namespaces of the matrix left out, with the reason.
EXCUSED_NAMESPACES = {
    "admin": "Django's admin, for platform staff: Django's own templates",
    "api_v1": "the university API: JSON for API clients, no page",
}


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
    # The other kinds (issue 15): a code exercise, a flag with its artifact, an essay; a submission
    # of each (the essay waits for review), a late quiz attempt, and one still being graded.
    code_assignment = make_assignment("code", CODE_SPEC, course=module.course, title="Sum two numbers", points=20)
    flag_spec = {"flag": "FLAG{x}", "artifacts": ["auth.log"], "hints": [{"text": "Read the log.", "after_wrong": 0}]}
    flag = make_assignment("flag", flag_spec, course=module.course, title="Which account fell", points=5)
    essay = make_assignment("essay", ESSAY_SPEC, course=module.course, title="Consent in care data", points=5)
    code_sub = Submission.objects.create(
        user=learner, assignment=code_assignment, version=code_assignment.current_version, attempt=1,
        answer={"code": "def solve(a, b):\n    # add them\n    return a + b\n"}, status="graded",
        score=Decimal("20.00"), max_score=Decimal("20.00"), graded_at=timezone.now(),
        feedback={"passed": 3, "total": 3, "tests": [
            {"id": "t1", "public": True, "passed": True, "input": "[1, 2]", "expected": "3", "got": "3"},
            {"id": "h1", "public": False, "passed": True}, {"id": "h2", "public": False, "passed": True}]},
    )  # fmt: skip
    flag_sub = Submission.objects.create(
        user=learner, assignment=flag, version=flag.current_version, attempt=1, answer={"flag": "FLAG{y}"},
        status="graded", score=Decimal("0.00"), max_score=Decimal("5.00"), graded_at=timezone.now(),
        feedback={"flag": {"correct": False}},
    )  # fmt: skip
    essay_sub = Submission.objects.create(
        user=learner, assignment=essay, version=essay.current_version, attempt=1,
        answer={"text": "Consent must be informed, specific and revocable.\n\nA second paragraph."},
        status="needs_review",
    )  # fmt: skip
    late_sub = Submission.objects.create(
        user=learner, assignment=quiz, version=quiz.current_version, attempt=2, answer={"q1": ["a"], "q2": ["b"]},
        status="graded", score=Decimal("4.00"), max_score=Decimal("10.00"), graded_at=timezone.now(),
        feedback={"questions": [{"id": "q1", "correct": True}, {"id": "q2", "correct": True}],
                  "late": {"code": "late_penalty", "days": 3, "percent": "60.00", "deduction": "6.00"}},
    )  # fmt: skip
    # The health-data kinds: each assignment, and a graded submission of a wrong answer to each, with
    # the feedback its real grader gives (the SQL query and the release run in the sandbox).
    health = {}
    for kind, fixtures in HEALTH_KINDS.items():
        for name, content in fixtures.COURSE_FILES.items():
            if CourseFile.objects.filter(course=module.course, name=name).exists():  # admissions.csv above
                continue
            course_services.course_file_add(user=instructor, course=module.course, name=name, content=content)
        assignment = make_assignment(kind, fixtures.SPEC, course=module.course, title=f"Health {kind}", points=10)
        result = kinds.get_grader(kind)(assignment.current_version.spec, fixtures.WRONG_ANSWER)
        health[kind] = (assignment, Submission.objects.create(
            user=learner, assignment=assignment, version=assignment.current_version, attempt=1,
            answer=fixtures.WRONG_ANSWER, status="graded", graded_at=timezone.now(), feedback=result.feedback,
            score=Decimal(str(round(10 * result.score / result.max_score, 2))), max_score=Decimal("10.00"),
        ))  # fmt: skip
    pending_sub = Submission.objects.create(
        user=learner,
        assignment=quiz,
        version=quiz.current_version,
        attempt=3,
        answer={"q1": ["a"], "q2": ["a"]},
    )
    # The rows above were written as graded by hand, not by grading: mark each learner's latest
    # graded attempt, as grade_record does (the analytics charts read it).
    grading_services.latest_graded_backfill()
    regrade_job = RegradeJob.objects.create(assignment=quiz, version=quiz.current_version, requested_by=instructor)
    organization = OrganizationFactory(name="Université Mohammed V")
    university_admin = UserFactory(full_name="Salma University Admin")
    account_services.membership_grant(user=university_admin, organization=organization)
    learner_pages = {
        "catalogue": reverse("courses:catalogue"),
        "course": reverse("courses:detail", args=[code]),
        "lesson": reverse("courses:lesson", args=[code, lesson.pk]),
        "quiz": reverse("courses:assignment", args=[code, quiz.pk]),
        "submission": reverse("grading:submission", args=[sub.pk]),
        "code": reverse("courses:assignment", args=[code, code_assignment.pk]),
        "flag": reverse("courses:assignment", args=[code, flag.pk]),
        "essay": reverse("courses:assignment", args=[code, essay.pk]),
        "submission-code": reverse("grading:submission", args=[code_sub.pk]),
        "submission-flag": reverse("grading:submission", args=[flag_sub.pk]),
        "submission-essay": reverse("grading:submission", args=[essay_sub.pk]),
        "submission-late": reverse("grading:submission", args=[late_sub.pk]),
        "submission-pending": reverse("grading:submission", args=[pending_sub.pk]),
        **{kind: reverse("courses:assignment", args=[code, a.pk]) for kind, (a, _sub) in health.items()},
        **{f"submission-{kind}": reverse("grading:submission", args=[sub.pk]) for kind, (_a, sub) in health.items()},
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
        "otp-setup": reverse("accounts:otp-setup"),
        "otp-verify": reverse("accounts:otp-verify"),
        "consent": reverse("accounts:consent"),
        "review-queue-empty": reverse("grading:review-queue"),
    }
    public_pages = {
        "login": reverse("accounts:login"),
        "signup": reverse("accounts:signup"),
        "verify": reverse("certificates:verify", args=[certificate.id]),
        "verify-unknown": reverse("certificates:verify", args=["00000000-0000-4000-8000-000000000000"]),
        "privacy-notice": reverse("accounts:privacy-notice"),
        "password-reset": reverse("accounts:password-reset"),
        "password-reset-done": reverse("accounts:password-reset-done"),
        "password-reset-confirm-invalid": reverse("accounts:password-reset-confirm", args=["MQ", "forged"]),
        "password-reset-complete": reverse("accounts:password-reset-complete"),
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
            for kind in ("code", "flag", "essay", *HEALTH_KINDS)
        },
        **{
            f"author-edit-{kind}": reverse("courses:author-assignment-edit", args=[code, a.pk])
            for kind, (a, _sub) in health.items()
        },
        "author-assignment-source": reverse("courses:author-assignment-edit", args=[code, quiz.pk]) + "?mode=source",
        "author-assignment-preview": reverse("courses:author-assignment-preview", args=[code, quiz.pk]),
        "author-banks": reverse("courses:author-banks", args=[code]),
        "author-bank-edit": reverse("courses:author-bank-edit", args=[code, competency.code]),
        "author-files": reverse("courses:author-files", args=[code]),
        "author-course-new": reverse("courses:author-course-new"),
        "author-path-new": reverse("courses:author-path-new"),
        "author-lesson-edit": reverse("courses:author-lesson-edit", args=[code, lesson.pk]),
        "author-lesson-new": reverse("courses:author-lesson-new", args=[code, module.pk]),
        "author-lesson-preview": reverse("courses:author-lesson-preview", args=[code, lesson.pk]),
        "author-module-edit": reverse("courses:author-module-edit", args=[code, module.pk]),
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
        # Grading as course staff: a learner's submissions, the essay review, a regrade.
        "submission-as-instructor": reverse("grading:submission", args=[code_sub.pk]),
        "essay-submission-as-instructor": reverse("grading:submission", args=[essay_sub.pk]),
        "review-queue": reverse("grading:review-queue"),
        "review": reverse("grading:review", args=[essay_sub.pk]),
        "regrade": reverse("grading:regrade", args=[regrade_job.pk]),
    }
    admin_pages = {
        "organization": reverse("accounts:organization"),
        "organization-invitations": reverse("organization-invitations"),
        "organization-lti": reverse("organization-lti"),
        "teach-as-university-admin": reverse("analytics:index"),
    }
    return {
        "learner": learner,
        "instructor": instructor,
        "learner_pages": learner_pages,
        "public_pages": public_pages,
        "instructor_pages": instructor_pages,
        "university_admin": university_admin,
        "admin_pages": admin_pages,
    }


def groups(site: dict) -> list[tuple]:
    """Every state of the site, as (user, {name: url}) groups: public, learner, instructor, admin."""
    return [
        (None, site["public_pages"]),
        (site["learner"], site["learner_pages"]),
        (site["instructor"], site["instructor_pages"]),
        (site["university_admin"], site["admin_pages"]),
    ]
