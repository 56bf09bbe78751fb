"""The authorization matrix: for EVERY named URL of the project, the status each role gets on a GET.
tests/security/test_url_matrix.py walks the URL resolver and fails on any URL missing here, so a
new page cannot ship without saying who may see it.

To add a URL: one entry, keyed by its namespaced name.
    "courses:lesson": {"kwargs": lambda w: {"code": w.course.code, "pk": w.lesson.pk},
                       "expect": only(200, learner=..., ...)}
`w` is the world built by the test (tests/security/urlwalk.py: w.course, w.lesson, w.quiz,
w.submission, w.export, w.users...). Each expected value is a status or a set of statuses.

Every URL is walked twice for the privileged roles (instructors, university admins, staff):
- with a two-factor-verified session: `expect`, as written here;
- with a password-only session (one that has not passed two-factor): such a session is a learner's.
  Its expectation is derived, not written: on the two-factor prefixes
  (settings.KAFAAT_2FA_REQUIRED_PATHS) and on views marked @require_verified_2fa, the redirect to
  the verification page; elsewhere exactly what the `newcomer` gets (a learner with no enrolment
  and no role, as the privileged users of the world have none). An entry may say otherwise with
  "password_only" (a status for every privileged role), with a comment saying why.
The walk runs a third time with no gated prefix at all: the rule is the role's, not the path's.

PRIVILEGED_POSTS lists the state-changing privileged URLs, each with data that succeeds for a
verified user of role `by`: with a password-only session they are refused and change nothing.
"""

import itertools
import json

ROLES = ("anonymous", "learner", "newcomer", "instructor", "other_instructor", "university_admin", "staff")
PRIVILEGED_ROLES = ("instructor", "other_instructor", "university_admin", "staff")


def everyone(status):
    return dict.fromkeys(ROLES, status)


def logged_in(status, anonymous=302, **overrides):
    """`status` for every logged-in role, `anonymous` (default: redirect to login) otherwise."""
    return {**dict.fromkeys(ROLES, status), "anonymous": anonymous, **overrides}


POST_ONLY = logged_in(405)  # login_required first: anonymous is sent to log in
COURSE_CONTENT = logged_in(302, learner=200, instructor=200, staff=200)  # enrolled learner, course staff
AUTHORING = logged_in(403, instructor=200, staff=200)
AUTHORING_POST = logged_in(405)  # POST-only: the method is refused before the role is checked
OWN_SUBMISSION = logged_in(404, learner=200, instructor=200, staff=200)
# Gradebook and analytics: course staff change, a university admin reads its own learners (export
# jobs are their requester's only: 404 for anyone else).
TEACH = logged_in(403, instructor=200, staff=200)
TEACH_READ = TEACH | {"university_admin": 200}
COURSE_STAFF_ONLY = logged_in(404, instructor=200, staff=200)  # others are not told it exists

OWN_CERTIFICATE = logged_in(404, learner=200, staff=200)


def _certificate(w):
    """The learner's certificate for the world's course (issued once, on first use)."""
    if not hasattr(w, "certificate"):
        from django.utils import timezone

        from certificates.services import certificate_issue
        from courses.models import Enrollment

        Enrollment.objects.filter(user=w.users["learner"], course=w.course).update(completed_at=timezone.now())
        w.certificate = certificate_issue(user_id=w.users["learner"].pk, course_id=w.course.pk)
    return w.certificate


def _roster_class_id(w):
    """A roster class of the learner's university mapped to the world's course (made once)."""
    if not hasattr(w, "roster_class"):
        from tests.roster.helpers import roster_class

        w.roster_class = roster_class(w.users["learner"].organization, w.course, sourced_id="matrix-class")
    return w.roster_class.pk


def _course_file(w):
    """A log attached by a flag of the world's course (made once, on first use)."""
    if not hasattr(w, "course_file"):
        from courses.models import CourseFile
        from tests.grading.helpers import make_assignment

        w.course_file = CourseFile.objects.create(
            course=w.course, name="auth.log", content=b"sshd: Failed password\n", size=22, content_kind="log"
        )
        make_assignment("flag", {"flag": "FLAG{x}", "artifacts": ["auth.log"]}, course=w.course)
    return w.course_file


def _spare_file(w):
    """A course file no assignment attaches (its editors may delete it)."""
    from courses.models import CourseFile

    row, _created = CourseFile.objects.get_or_create(
        course=w.course, name="spare.txt", defaults={"content": b"spare\n", "size": 6, "content_kind": "txt"}
    )
    return row


MATRIX = {
    # platform
    "healthz": {"expect": everyone(200)},
    "readyz": {"expect": everyone(200)},
    "set_language": {"expect": everyone(302)},
    # accounts
    "accounts:signup": {"expect": logged_in(302, anonymous=200)},
    "accounts:login": {"expect": logged_in(302, anonymous=200)},
    "accounts:logout": {"expect": everyone(405)},
    "accounts:verify-resend": {"expect": everyone(405)},
    "accounts:verify": {"kwargs": lambda w: {"token": "forged"}, "expect": everyone(400)},
    "accounts:activate": {"kwargs": lambda w: {"token": "forged"}, "expect": everyone(400)},
    "accounts:activate-resend": {"kwargs": lambda w: {"token": "forged"}, "expect": everyone(405)},
    # Changes of address and university links (issue 12): a forged token is refused for everyone.
    "accounts:email-change-confirm": {"kwargs": lambda w: {"token": "forged"}, "expect": everyone(400)},
    "accounts:email-change-cancel": {"kwargs": lambda w: {"token": "forged"}, "expect": everyone(400)},
    "integrations:link-confirm": {"kwargs": lambda w: {"token": "forged"}, "expect": everyone(400)},
    "accounts:password-reset": {"expect": everyone(200)},
    "accounts:password-reset-done": {"expect": everyone(200)},
    "accounts:password-reset-confirm": {
        "kwargs": lambda w: {"uidb64": "MQ", "token": "forged"},
        "expect": everyone(200),
    },  # fmt: skip
    "accounts:password-reset-complete": {"expect": everyone(200)},
    "accounts:password-change": {"expect": logged_in(200)},
    "accounts:me": {"expect": logged_in(200)},
    "accounts:sessions": {"expect": logged_in(200)},
    "accounts:session-end": {"expect": POST_ONLY},
    "accounts:sessions-end-others": {"expect": POST_ONLY},
    # A password-only session of a user who has a device must verify before replacing it.
    "accounts:otp-setup": {"expect": logged_in(200), "password_only": 302},
    "accounts:otp-verify": {"expect": logged_in(200)},
    "accounts:otp-recovery-codes": {"expect": POST_ONLY},
    "accounts:privacy-notice": {"expect": everyone(200)},
    "accounts:consent": {"expect": logged_in(200)},
    "accounts:privacy": {"expect": logged_in(200)},
    "accounts:export-request": {"expect": POST_ONLY},
    "accounts:export-download": {
        "kwargs": lambda w: {"pk": w.export.pk},
        "expect": logged_in(404, learner=200),
    },  # fmt: skip
    "accounts:deletion-request": {"expect": POST_ONLY},
    "accounts:deletion-cancel": {"expect": POST_ONLY},
    "accounts:organization": {"expect": logged_in(404, university_admin=200)},
    "organization-invitations": {"expect": logged_in(404, university_admin=200)},
    "organization-lti": {"expect": logged_in(404, university_admin=200)},
    # LTI 1.3 (integrations.lti_views). The key set is public. A login with no launch parameters
    # gets the cookie check (its second step needs the platform's parameters); a launch is POST
    # only; the deep-linking picker and the roster pull need a launch in this browser session
    # (the roster pull also lets the course's instructors in); a registration link that is not
    # one is a 400 page.
    "lti-jwks": {"expect": everyone(200)},
    "lti-register": {"kwargs": lambda w: {"token": "not-a-link"}, "expect": everyone(400)},
    "lti-login": {"kwargs": lambda w: {"platform_uuid": w.lti_platform.uuid}, "expect": everyone(200)},
    "lti-launch": {"kwargs": lambda w: {"platform_uuid": w.lti_platform.uuid}, "expect": everyone(405)},
    "lti-deep-link": {"kwargs": lambda w: {"platform_uuid": w.lti_platform.uuid}, "expect": everyone(403)},
    "lti-roster": {
        "kwargs": lambda w: {"context_id": w.lti_context.pk},
        "expect": everyone(403) | {"staff": 200},
    },
    # University API v1: its OpenAPI schema and docs are public; the token endpoint is POST-only.
    "api_v1:schema": {"expect": everyone(200)},
    "api_v1:docs": {"expect": everyone(200)},
    "oauth2_token": {"expect": everyone(405)},
    # Django's admin (the rest of its URLs: NAMESPACE_RULES below)
    "admin:login": {"expect": everyone(200) | {"staff": 302}},
    # courses
    "courses:catalogue": {"expect": everyone(200)},
    "courses:detail": {"kwargs": lambda w: {"code": w.course.code}, "expect": everyone(200)},
    "courses:enroll": {"kwargs": lambda w: {"code": w.course.code}, "expect": POST_ONLY},
    "courses:lesson": {"kwargs": lambda w: {"code": w.course.code, "pk": w.lesson.pk}, "expect": COURSE_CONTENT},
    "courses:assignment": {"kwargs": lambda w: {"code": w.course.code, "pk": w.quiz.pk}, "expect": COURSE_CONTENT},
    # courses: authoring (two-factor path /author/); drafts are for their instructors and staff
    "courses:author-home": {"expect": AUTHORING | {"other_instructor": 200}},
    "courses:author-course-new": {"expect": AUTHORING | {"other_instructor": 200}},  # any instructor
    "courses:author-import": {"expect": AUTHORING | {"other_instructor": 200}},  # any instructor
    "courses:author-import-confirm": {"kwargs": lambda w: {"pk": w.import_job.pk}, "expect": POST_ONLY},
    # a background import's page is its requester's only (404 for anyone else, staff included)
    "courses:author-import-job": {
        "kwargs": lambda w: {"pk": w.import_job.pk},
        "expect": logged_in(404, instructor=200),
    },
    "courses:author-outline": {"kwargs": lambda w: {"code": w.course.code}, "expect": AUTHORING},
    "courses:author-course-edit": {"kwargs": lambda w: {"code": w.course.code}, "expect": AUTHORING},
    "courses:author-status": {"kwargs": lambda w: {"code": w.course.code}, "expect": AUTHORING_POST},
    "courses:author-export": {"kwargs": lambda w: {"code": w.course.code}, "expect": AUTHORING},
    "courses:author-files": {"kwargs": lambda w: {"code": w.course.code}, "expect": AUTHORING},
    "courses:author-file-delete": {
        "kwargs": lambda w: {"code": w.course.code, "pk": _spare_file(w).pk},
        "expect": AUTHORING_POST,
    },  # fmt: skip
    # a course file: its editors, and learners with access when an assignment attaches it
    "courses:file": {
        "kwargs": lambda w: {"code": w.course.code, "name": _course_file(w).name},
        "expect": logged_in(404, learner=200, instructor=200, staff=200),
    },  # fmt: skip
    "courses:author-module-new": {"kwargs": lambda w: {"code": w.course.code}, "expect": AUTHORING_POST},
    "courses:author-module-edit": {
        "kwargs": lambda w: {"code": w.course.code, "pk": w.lesson.module_id},
        "expect": AUTHORING,
    },  # fmt: skip
    "courses:author-module-move": {
        "kwargs": lambda w: {"code": w.course.code, "pk": w.lesson.module_id},
        "expect": AUTHORING_POST,
    },  # fmt: skip
    "courses:author-lesson-new": {
        "kwargs": lambda w: {"code": w.course.code, "module_pk": w.lesson.module_id},
        "expect": AUTHORING,
    },  # fmt: skip
    "courses:author-lesson-edit": {
        "kwargs": lambda w: {"code": w.course.code, "pk": w.lesson.pk},
        "expect": AUTHORING,
    },  # fmt: skip
    "courses:author-lesson-move": {
        "kwargs": lambda w: {"code": w.course.code, "pk": w.lesson.pk},
        "expect": AUTHORING_POST,
    },  # fmt: skip
    "courses:author-lesson-preview": {
        "kwargs": lambda w: {"code": w.course.code, "pk": w.lesson.pk},
        "expect": AUTHORING,
    },  # fmt: skip
    "courses:author-assignment-new": {
        "kwargs": lambda w: {"code": w.course.code, "module_pk": w.lesson.module_id},
        "expect": AUTHORING,
    },  # fmt: skip
    "courses:author-assignment-edit": {
        "kwargs": lambda w: {"code": w.course.code, "pk": w.quiz.pk},
        "expect": AUTHORING,
    },  # fmt: skip
    "courses:author-assignment-preview": {
        "kwargs": lambda w: {"code": w.course.code, "pk": w.quiz.pk},
        "expect": AUTHORING,
    },  # fmt: skip
    "courses:author-banks": {"kwargs": lambda w: {"code": w.course.code}, "expect": AUTHORING},
    "courses:author-bank-edit": {"kwargs": lambda w: {"code": w.course.code, "tag": _bank(w)}, "expect": AUTHORING},
    "courses:author-bank-delete": {
        "kwargs": lambda w: {"code": w.course.code, "tag": _bank(w)},
        "expect": AUTHORING_POST,
    },  # fmt: skip
    # a course's cover: whoever may see its page (the world's course is published)
    "courses:cover": {"kwargs": lambda w: {"code": w.course.code}, "expect": everyone(200)},
    # co-instructors, on the course settings page (POST only)
    "courses:author-instructor-add": {"kwargs": lambda w: {"code": w.course.code}, "expect": AUTHORING_POST},
    "courses:author-instructor-remove": {
        "kwargs": lambda w: {"code": w.course.code, "pk": w.users["instructor"].pk},
        "expect": AUTHORING_POST,
    },
    # learning paths: any author lists and creates; a path's editors are staff, its creator and the
    # instructors of its courses (the world's path holds the world's course)
    "courses:author-paths": {"expect": AUTHORING | {"other_instructor": 200}},
    "courses:author-path-new": {"expect": AUTHORING | {"other_instructor": 200}},
    "courses:author-path-edit": {"kwargs": lambda w: {"code": w.path.code}, "expect": AUTHORING},
    "courses:author-path-course-add": {"kwargs": lambda w: {"code": w.path.code}, "expect": AUTHORING_POST},
    "courses:author-path-course-remove": {"kwargs": lambda w: _path_step(w), "expect": AUTHORING_POST},
    "courses:author-path-course-move": {"kwargs": lambda w: _path_step(w), "expect": AUTHORING_POST},
    "courses:author-path-course-gate": {"kwargs": lambda w: _path_step(w), "expect": AUTHORING_POST},
    # grading
    "grading:submission": {"kwargs": lambda w: {"pk": w.submission.pk}, "expect": OWN_SUBMISSION},
    # the poll of a submission's page: the world's submission is graded, so its final content with
    # htmx's 286 (swap, then stop polling); a submission still being graded gets 204
    "grading:submission-status": {
        "kwargs": lambda w: {"pk": w.submission.pk},
        "expect": logged_in(404, learner=286, instructor=286, staff=286),
    },
    "grading:submission-retry": {"kwargs": lambda w: {"pk": w.submission.pk}, "expect": POST_ONLY},
    "grading:regrade-start": {"expect": POST_ONLY},
    "grading:regrade": {"kwargs": lambda w: {"pk": w.regrade_job.pk}, "expect": COURSE_STAFF_ONLY},
    "grading:review-queue": {"expect": logged_in(200)},  # scoped: each sees only their courses' essays
    "grading:review": {"kwargs": lambda w: {"pk": w.essay_submission.pk}, "expect": COURSE_STAFF_ONLY},
    # analytics: gradebook and analytics (two-factor path /teach/)
    "analytics:index": {"expect": logged_in(200)},
    "analytics:path": {"kwargs": lambda w: {"code": w.path.code}, "expect": TEACH_READ},
    "analytics:gradebook": {"kwargs": lambda w: {"code": w.course.code}, "expect": TEACH_READ},
    "analytics:override": {
        "kwargs": lambda w: {"code": w.course.code, "user_id": w.users["learner"].pk, "assignment_id": w.quiz.pk},
        "expect": TEACH,
    },  # fmt: skip
    "analytics:export": {"kwargs": lambda w: {"code": w.course.code, "fmt": "csv"}, "expect": TEACH_READ},
    "analytics:export_start": {"kwargs": lambda w: {"code": w.course.code}, "expect": POST_ONLY},
    "analytics:oneroster_export": {
        "kwargs": lambda w: {"code": w.course.code, "class_id": _roster_class_id(w)},
        "expect": TEACH_READ,
    },
    "analytics:export_status": {
        "kwargs": lambda w: {"code": w.course.code, "pk": w.export_job.pk},
        "expect": TEACH | {"instructor": 200, "university_admin": 404, "staff": 404},
    },
    "analytics:export_file": {
        "kwargs": lambda w: {"code": w.course.code, "pk": w.export_job.pk},
        "expect": TEACH | {"instructor": 404, "university_admin": 404, "staff": 404},
    },
    "analytics:course": {"kwargs": lambda w: {"code": w.course.code}, "expect": TEACH_READ},
    "analytics:assignment": {"kwargs": lambda w: {"code": w.course.code, "pk": w.quiz.pk}, "expect": TEACH_READ},
    # learning: the learner's own pages (issue 7)
    "learning:dashboard": {"expect": logged_in(200)},
    "learning:grades": {"expect": logged_in(200)},
    "learning:notifications": {"expect": logged_in(200)},
    "learning:notifications-read": {"expect": POST_ONLY},
    "learning:path-progress": {"kwargs": lambda w: {"code": w.path.code}, "expect": logged_in(200)},
    # certificates: the verification page and the issuer's keys are public; a certificate's own
    # pages are its learner's and staff's (issue 7)
    "certificates:verify": {"kwargs": lambda w: {"certificate_id": str(_certificate(w).id)}, "expect": everyone(200)},
    "certificates:issuer": {"expect": everyone(200)},
    "certificates:issuer-key": {"kwargs": lambda w: {"kid": _certificate(w).key.kid}, "expect": everyone(200)},
    "certificates:list": {"expect": logged_in(200)},
    "certificates:detail": {"kwargs": lambda w: {"certificate_id": _certificate(w).id}, "expect": OWN_CERTIFICATE},
    "certificates:pdf": {"kwargs": lambda w: {"certificate_id": _certificate(w).id}, "expect": OWN_CERTIFICATE},
    "certificates:credential": {
        "kwargs": lambda w: {"certificate_id": _certificate(w).id},
        "expect": OWN_CERTIFICATE,
    },  # fmt: skip
    "certificates:revoke": {"kwargs": lambda w: {"certificate_id": _certificate(w).id}, "expect": POST_ONLY},
}

# Whole namespaces handled by one rule (Django's admin: dozens of generated URLs). Their kwargs
# are filled from the URL's parameters (app_label="accounts", anything else "1").
NAMESPACE_RULES = {
    "admin": {"expect": logged_in({302}, anonymous=302, staff={200, 302, 403, 404, 405})},
    # University API v1 (issue 5): OAuth 2 bearer tokens only, never a browser session: 401 for
    # every role here; tests/integrations/test_isolation.py covers clients of each university.
    "api_v1": {"expect": everyone(401)},
}


def _bank(w) -> str:
    """The tag of the world's course's question bank (made on first use)."""
    from courses.models import Competency, QuestionBank
    from tests.factories import QUIZ_SPEC

    competency, _created = Competency.objects.get_or_create(code="matrix-bank", defaults={"name": "Matrix bank"})
    QuestionBank.objects.get_or_create(
        course=w.course, competency=competency, defaults={"questions": QUIZ_SPEC["questions"]}
    )
    return competency.code


def _bank_text():
    from tests.factories import QUIZ_SPEC

    return json.dumps({"questions": QUIZ_SPEC["questions"][:1]})


def _path_step(w):
    return {"code": w.path.code, "pk": w.path.path_courses.get(course=w.course).pk}


def _other_course(w):
    from courses.models import Course

    return Course.objects.filter(instructors=w.users["other_instructor"]).first()


def _quiz_spec_with_another_key():
    from tests.factories import QUIZ_SPEC

    spec = json.loads(json.dumps(QUIZ_SPEC))
    spec["questions"][0]["answer"] = ["b"]
    return json.dumps(spec)


def _archive_bytes(w, code: str) -> bytes:
    """The world's course exported, under another code: importing it creates a course."""
    import io
    import zipfile

    from courses.archive import course_export

    source, copy = zipfile.ZipFile(io.BytesIO(course_export(course=w.course))), io.BytesIO()
    with zipfile.ZipFile(copy, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "course.yaml":
                data = data.replace(f"code: {w.course.code}".encode(), f"code: {code}".encode(), 1)
            target.writestr(info, data)
    return copy.getvalue()


def _archive(w):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = _archive_bytes(w, "imported-copy")
    return {"archive": SimpleUploadedFile("imported-copy.zip", data, content_type="application/zip")}


def _awaiting_import(w):
    """An upload of the instructor's, checked and awaiting confirmation (confirming imports it)."""
    from courses import archive
    from courses.models import CourseImportJob

    data = _archive_bytes(w, "confirmed-copy")
    summary = archive.archive_changes(parsed=archive.archive_read(data), user=w.users["instructor"])
    job = CourseImportJob.objects.create(
        requested_by=w.users["instructor"], file_name="confirmed-copy.zip", archive=data,
        status=CourseImportJob.Status.AWAITING, summary={**summary, "inflated_bytes": len(data)},
    )  # fmt: skip
    return {"pk": job.pk}


_CODE = {"kwargs": lambda w: {"code": w.course.code}}


_UPLOADS = itertools.count()


def _text_upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/plain")


PRIVILEGED_POSTS = {
    "certificates:revoke": {
        "kwargs": lambda w: {"certificate_id": _certificate(w).id}, "data": lambda w: {"reason": "Issued by mistake"},
        "by": "staff",
    },
    "grading:submission-retry": {
        "kwargs": lambda w: {"pk": w.failed_submission.pk}, "data": lambda w: {}, "by": "instructor",
    },
    "analytics:override": {
        "kwargs": lambda w: {"code": w.course.code, "user_id": w.users["learner"].pk, "assignment_id": w.quiz.pk},
        "data": lambda w: {"score": "7", "reason": "Oral exam"}, "by": "instructor",
    },
    "analytics:export_start": {**_CODE, "data": lambda w: {"format": "csv"}, "by": "instructor"},
    "grading:regrade-start": {"data": lambda w: {"submission": w.submission.pk}, "by": "instructor"},
    "grading:review": {
        "kwargs": lambda w: {"pk": w.essay_submission.pk},
        "data": lambda w: {"c_c1": "l2", "c_c2": "l1", "feedback": "Clear."}, "by": "instructor",
    },
    "courses:author-course-new": {
        "data": lambda w: {"code": "brand-new", "title": "New", "summary": "", "language": "en", "level": "advanced"},
        "by": "instructor",
    },
    "courses:author-course-edit": {
        **_CODE, "data": lambda w: {"title": "Renamed", "summary": "", "language": "en", "level": "intermediate",
                                    "workload_hours": "12", "track": "health-law"},
        "by": "instructor",
    },
    "courses:author-instructor-add": {
        **_CODE, "data": lambda w: {"email": w.users["other_instructor"].email}, "by": "instructor",
    },
    "courses:author-instructor-remove": {
        "kwargs": lambda w: {"code": w.course.code, "pk": w.users["other_instructor"].pk}, "data": lambda w: {},
        "by": "instructor",
    },
    "courses:author-path-new": {
        "data": lambda w: {"code": "new-path", "title": "New path", "track": "data-science", "status": "draft"},
        "by": "instructor",
    },
    "courses:author-path-edit": {
        "kwargs": lambda w: {"code": w.path.code},
        "data": lambda w: {"title": "Renamed path", "track": "cybersecurity", "summary": "", "status": "published"},
        "by": "instructor",
    },
    "courses:author-path-course-add": {
        "kwargs": lambda w: {"code": w.path.code},
        "data": lambda w: {"course": _other_course(w).pk, "gate": "recommended"}, "by": "staff",
    },
    "courses:author-path-course-gate": {
        "kwargs": _path_step, "data": lambda w: {"gate": "recommended"}, "by": "instructor",
    },
    "courses:author-path-course-move": {
        "kwargs": _path_step, "data": lambda w: {"direction": "down"}, "by": "instructor",
    },
    "courses:author-module-new": {**_CODE, "data": lambda w: {"title": "Module two"}, "by": "instructor"},
    "courses:author-module-edit": {
        "kwargs": lambda w: {"code": w.course.code, "pk": w.module.pk}, "data": lambda w: {"title": "Renamed"},
        "by": "instructor",
    },
    "courses:author-lesson-new": {
        "kwargs": lambda w: {"code": w.course.code, "module_pk": w.module.pk},
        "data": lambda w: {"title": "Lesson two", "body_markdown": "Text"}, "by": "instructor",
    },
    "courses:author-lesson-edit": {
        "kwargs": lambda w: {"code": w.course.code, "pk": w.lesson.pk},
        "data": lambda w: {"title": "Renamed", "body_markdown": "New text"}, "by": "instructor",
    },
    "courses:author-assignment-edit": {
        "kwargs": lambda w: {"code": w.course.code, "pk": w.quiz.pk},
        "data": lambda w: {
            "title": "Quiz", "points": "10", "pass_percent": "50", "is_required": "on",
            "late_penalty_per_day": "0", "prompt_markdown": "", "spec_text": _quiz_spec_with_another_key(),
        },
        "by": "instructor",
    },
    "courses:author-bank-edit": {
        "kwargs": lambda w: {"code": w.course.code, "tag": _bank(w)},
        "data": lambda w: {"questions_text": _bank_text()}, "by": "instructor",
    },
    "courses:author-bank-delete": {
        "kwargs": lambda w: {"code": w.course.code, "tag": _bank(w)}, "data": lambda w: {"confirm": "on"},
        "by": "instructor",
    },
    "courses:author-files": {
        **_CODE, "by": "instructor",
        # a new content each time, replacing the file of the same name: each verified POST changes it
        "data": lambda w: {"file": _text_upload("notes.txt", f"Read me {next(_UPLOADS)}.\n".encode()), "replace": "on"},
    },
    "courses:author-file-delete": {
        "kwargs": lambda w: {"code": w.course.code, "pk": _spare_file(w).pk}, "data": lambda w: {"confirm": "on"},
        "by": "instructor",
    },
    "admin:courses_competency_add": {
        "data": lambda w: {"code": "triage", "name": "Triage", "description": ""}, "by": "staff",
    },
    # Last: they change the course the others use.
    "courses:author-path-course-remove": {"kwargs": _path_step, "data": lambda w: {}, "by": "instructor"},
    "courses:author-status": {**_CODE, "data": lambda w: {"status": "archived"}, "by": "instructor"},
    "courses:author-import-confirm": {"kwargs": _awaiting_import, "data": lambda w: {}, "by": "instructor"},
    "courses:author-import": {"data": _archive, "by": "instructor"},
}  # fmt: skip
