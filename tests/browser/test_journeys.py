"""Journeys in a real browser (Debian chromium via Playwright) on a live server with the session's
real Celery worker: grading, certificate issuing and e-mails all happen in the worker process.

Journey 1 (and 3, the same in Arabic): sign up -> confirm the address from the e-mail -> log in ->
enroll in a path's course -> start it (the
first lesson, marked done, leads on) -> submit a quiz and a code assignment (graded in the
bubblewrap sandbox) -> see both graded -> the course completes -> download the certificate (PDF) -> verify it publicly.
Journey 2: an instructor creates a module, a quiz and an essay, publishes, and grades a learner's
essay from the review queue."""

import re
import time
import uuid

import pytest
from django.core import mail

from certificates.models import Certificate
from courses import services as course_services
from courses.models import Assignment
from tests.factories import LessonFactory, ModuleFactory, PathFactory, add_to_path, make_quiz

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

TIMEOUT_MS = 90_000
CODE_SPEC = {
    "entrypoint": "solve",
    "starter_code": "def solve(records):\n    ...\n",
    "reference_solution": "def solve(records):\n    return len(records)\n",
    "public_tests": [{"id": "t1", "args": [[1, 2, 3]]}],
    "hidden_tests": [{"id": "h1", "args": [[]]}],
}


def a_path_with_one_course(*, language: str = "en"):
    path = PathFactory(title="Data governance essentials")
    module = ModuleFactory(course__title="Health data privacy", course__language=language)
    add_to_path(path, module.course, 1)
    LessonFactory(module=module, title="What is personal data?", body_markdown="Personal data is *any* information.")
    quiz = make_quiz(module=module, title="Privacy quiz", points=10)
    code = Assignment.objects.create(course=module.course, module=module, title="Count the records", kind="code",
                                     points=10, position=2)  # fmt: skip
    course_services.assignment_version_create(assignment=code, spec=CODE_SPEC)  # runs the reference in the sandbox
    code.refresh_from_db()
    return path, module.course, quiz, code


def reload_until(page, selector: str, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.locator(selector).count():
            return page.locator(selector).first
        time.sleep(1)
        page.reload()
    raise AssertionError(f"{selector} never appeared on {page.url}")


def learner_journey(pages, *, lang: str, texts: dict) -> dict:
    path, course, quiz, code = a_path_with_one_course()
    page = pages.new(lang=lang)
    email = f"learner-{uuid.uuid4().hex[:8]}@example.org"

    # Sign up.
    page.goto("/accounts/signup/")
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    page.fill("input[name=full_name]", "Amina Benali")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "a-long-and-unusual-passphrase")
    page.check("input[name=accept_privacy]")
    page.locator("main form button[type=submit]:not([name])").click()
    page.wait_for_load_state()
    # Nobody is logged in by a sign-up: the account is usable from the e-mailed link. The live
    # server runs in this process, so its e-mail is in Django's locmem outbox.
    assert page.locator("[data-signup=sent]").is_visible()
    (message,) = [m for m in mail.outbox if m.to == [email]]
    link = re.search(r"https?://\S+", message.body).group(0)
    page.goto("/" + link.split("/", 3)[3])
    page.wait_for_url("**/accounts/login/**")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", "a-long-and-unusual-passphrase")
    page.locator("main form button[type=submit]:not([name])").click()
    page.wait_for_url("**/learning/")
    page.goto("/")

    # Enroll in the path's first course from the catalogue.
    page.locator(f'main a[href="/courses/{course.code}/"]').first.click()
    page.locator(f'main form[action="/courses/{course.code}/enroll/"] button').click()
    assert page.get_by_text(texts["enrolled"]).first.is_visible()

    # Start the course: its first lesson, beside the outline; its content keeps its own language
    # and direction. Marking it done moves on to the next step, the module's quiz.
    page.get_by_role("link", name=texts["start"], exact=True).click()
    page.wait_for_url(f"**/courses/{course.code}/lessons/*/")
    assert page.locator("article").get_attribute("lang") == course.language
    assert page.locator("article").get_attribute("dir") == "ltr"
    assert page.locator(".course-outline [aria-current=page]").inner_text() == "What is personal data?"
    page.locator("main form.lesson-done button[type=submit]").click()
    page.wait_for_url(f"**/courses/{course.code}/assignments/{quiz.pk}/")

    # Submit the quiz and watch the worker grade it (htmx polls the status).
    page.check("input[name=q_q1][value=a]")
    page.check("input[name=q_q2][value=a]")
    page.check("input[name=q_q2][value=c]")
    page.locator("main form button[type=submit]:not([name])").click()
    page.wait_for_selector("[data-status=graded]", timeout=TIMEOUT_MS)
    assert page.locator("[data-score]").get_attribute("data-score").replace(",", ".") == "10.00"

    # Submit the code assignment: a worker runs it in the sandbox.
    page.goto(f"/courses/{course.code}/assignments/{code.pk}/")
    # The code field is a CodeMirror editor (static/js/code_editor.js): set its text through it.
    page.wait_for_selector(".code-editor")
    page.evaluate(
        "code => document.querySelector('textarea[name=code]').kafaatEditor.setValue(code)",
        "def solve(records):\n    return len(records)\n",
    )
    page.locator("main form button[type=submit]:not([name])").click()
    page.wait_for_selector("[data-status=graded]", timeout=TIMEOUT_MS)
    assert page.locator("[data-score]").get_attribute("data-score").replace(",", ".") == "10.00"

    # The dashboard shows the course complete and, once the worker issued it, the certificate.
    page.goto("/learning/")
    assert page.get_by_role("heading", name=texts["dashboard"]).is_visible()
    reload_until(page, 'main a[href^="/certificates/"]')
    page.locator('#h-certificates + ul a[href^="/certificates/"]', has_text=course.title).click()
    assert page.get_by_role("heading", name=course.title).is_visible()
    with page.expect_download() as download_info:
        page.locator('main a[href$="/certificate.pdf"]').click()
    pdf = open(download_info.value.path(), "rb").read()
    assert pdf.startswith(b"%PDF") and b"Amina Benali" in pdf

    # Anyone can verify it, without logging in.
    verify_href = page.locator('main a[href^="/verify/"]').get_attribute("href")
    public = pages.new(lang=lang)
    public.goto(verify_href)
    assert public.locator("[data-verification=valid]").is_visible()
    assert public.get_by_text("Amina Benali").is_visible() and public.get_by_text(course.title).is_visible()
    assert public.get_by_text(texts["valid"]).first.is_visible()
    certificate_id = re.search(r"/verify/([0-9a-f-]+)", verify_href).group(1)
    return {"certificate": Certificate.objects.get(pk=certificate_id), "path": path, "course": course}


def test_journey_1_learner_signs_up_learns_gets_graded_and_verifies_the_certificate(pages, worker):
    result = learner_journey(
        pages,
        lang="en",
        texts={"enrolled": "Enrolled", "start": "Start", "dashboard": "My dashboard", "valid": "Valid"},
    )
    # The path had one course: finishing it finished the path, which has its own certificate.
    assert Certificate.objects.filter(user=result["certificate"].user, path=result["path"]).exists()


def test_journey_3_the_same_in_arabic_right_to_left(pages, worker):
    result = learner_journey(
        pages,
        lang="ar",
        texts={"enrolled": "مسجّل", "start": "ابدأ", "dashboard": "لوحة متابعتي", "valid": "صالحة"},
    )
    assert result["certificate"].user.preferred_language == "ar"


QUIZ_YAML = """questions:
- id: q1
  type: single
  prompt: Which law protects personal data in Morocco?
  choices: [{id: a, text: Law 09-08}, {id: b, text: Law 31-08}]
  answer: [a]
"""


ESSAY_YAML = """rubric:
  criteria:
  - id: argument
    title: Argument
    levels:
    - {id: weak, title: Weak, points: 0}
    - {id: strong, title: Strong, points: 4}
min_words: 3
max_words: 300
"""


def test_journey_2_instructor_creates_a_module_and_an_assignment_publishes_and_reviews_an_essay(pages, worker):
    """Authoring (issue 3) and the essay review queue (issue 4), in the browser."""
    from courses.models import Course
    from grading.models import Submission
    from learning.models import Notification
    from tests.factories import UserFactory

    instructor = UserFactory(full_name="Karim Instructor", is_staff=True)
    page = pages.new(lang="fr", user=instructor)

    page.goto("/author/new/")
    page.fill("input[name=code]", "privacy-201")
    page.fill("input[name=title]", "Protection des données de santé")
    page.select_option("select[name=language]", "fr")
    page.locator("main form button[type=submit]:not([name])").first.click()
    page.wait_for_url("**/author/privacy-201/")

    page.fill("input[name=title]", "Module 1: la loi 09-08")
    page.locator('main form[action$="/modules/new/"] button').click()
    assert page.get_by_text("Module 1: la loi 09-08").first.is_visible()

    page.goto(page.locator('main a[href$="/assignments/new/?kind=quiz"]').first.get_attribute("href") + "&mode=source")
    page.fill("input[name=title]", "Quiz sur la loi 09-08")
    page.fill("textarea[name=spec_text]", QUIZ_YAML)
    page.locator("main form button[type=submit]:not([name])").last.click()
    page.wait_for_url("**/author/privacy-201/")
    assert page.get_by_text("Quiz sur la loi 09-08").first.is_visible()

    page.goto(page.locator('main a[href$="/assignments/new/?kind=essay"]').first.get_attribute("href") + "&mode=source")
    page.fill("input[name=title]", "Analyse d'un cas de fuite de données")
    page.fill("textarea[name=spec_text]", ESSAY_YAML)
    page.locator("main form button[type=submit]:not([name])").last.click()
    page.wait_for_url("**/author/privacy-201/")

    page.locator('main form[action$="/status/"]:has(input[value=published]) button').click()
    page.wait_for_load_state()
    course = Course.objects.get(code="privacy-201")
    assert course.status == "published"
    assert all(a.current_version_id for a in course.assignments.all()) and course.assignments.count() == 2

    # A learner sees the published course and writes the essay; the worker sends it to review.
    learner = UserFactory(full_name="Salma Idrissi")
    learner_page = pages.new(lang="fr", user=learner)
    learner_page.goto("/courses/privacy-201/")
    assert learner_page.get_by_text("Quiz sur la loi 09-08").is_visible()
    learner_page.locator("main form[action$='/enroll/'] button").click()
    essay = course.assignments.get(kind="essay")
    learner_page.goto(f"/courses/privacy-201/assignments/{essay.pk}/")
    learner_page.fill("textarea[name=text]", "Le responsable du traitement doit notifier la CNDP sans délai.")
    learner_page.locator("main form button[type=submit]:not([name])").click()
    learner_page.wait_for_selector("[data-status=needs_review]", timeout=TIMEOUT_MS)

    # The instructor grades it from the queue.
    page.goto("/grading/review/")
    page.locator('main a[href^="/grading/review/"]').first.click()
    page.check("input[name=c_argument][value=strong]")
    page.fill("textarea[name=feedback]", "Bonne référence à la loi 09-08.")
    page.locator("main form button[type=submit]:not([name])").click()
    page.wait_for_load_state()
    submission = Submission.objects.get(assignment=essay, user=learner)
    assert submission.status == "graded" and str(submission.score) == str(essay.points)

    # The learner sees the grade, the feedback and a notification.
    learner_page.goto(f"/submissions/{submission.pk}/")
    assert learner_page.get_by_text("Bonne référence à la loi 09-08.").is_visible()
    assert Notification.objects.filter(user=learner, kind="graded").exists()
