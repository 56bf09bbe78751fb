"""A learner's way through a course, in French, Arabic and English, in Debian's chromium with the
session's real Celery worker and the real sandbox (issue 15): start the course from its page,
read the lessons (the outline beside them, "mark as done" moving on), take a quiz and read a
result that teaches, run a code exercise's public tests without spending an attempt then submit
it, download a flag's artifact and capture the flag. On every page: no console or script error,
and no serious or critical axe violation."""

import pytest

from courses import services as course_services
from courses.models import Assignment
from tests.browser.conftest import run_axe
from tests.browser.test_journeys import CODE_SPEC, TIMEOUT_MS
from tests.factories import LessonFactory, ModuleFactory, UserFactory, enroll

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

QUIZ = {
    "questions": [
        {"id": "q1", "type": "single", "prompt": "Which law protects personal data in Morocco?",
         "choices": [{"id": "a", "text": "Law 09-08"}, {"id": "b", "text": "Law 31-08"}], "answer": ["a"],
         "explanation": "Law 09-08 created the CNDP."},
    ]
}  # fmt: skip
LOG = b"Dec  1 03:12:44 srv sshd[811]: Accepted password for root from 10.0.4.7\n"
TEXTS = {
    "fr": {"start": "Commencer", "your_answer": "Votre réponse", "no_attempt": "Aucune tentative"},
    "ar": {"start": "ابدأ", "your_answer": "إجابتك", "no_attempt": "لم تُستهلك أي محاولة"},
    "en": {"start": "Start", "your_answer": "Your answer", "no_attempt": "No attempt was used"},
}


def a_course():
    module = ModuleFactory(course__title="Données de santé", course__language="fr", course__status="published")
    course = module.course
    first = LessonFactory(module=module, position=1, title="Qu'est-ce qu'une donnée de santé ?",
                          body_markdown="Une donnée de santé est une donnée *sensible*.")  # fmt: skip
    second = LessonFactory(module=module, position=2, title="La loi 09-08",
                           body_markdown="La loi 09-08 protège les données personnelles.")  # fmt: skip
    quiz = Assignment.objects.create(course=course, module=module, title="Quiz : la loi", kind="quiz", points=10,
                                     position=1, attempts_allowed=2)  # fmt: skip
    course_services.assignment_version_create(assignment=quiz, spec=QUIZ)
    code = Assignment.objects.create(course=course, module=module, title="Compter les dossiers", kind="code",
                                     points=10, position=2)  # fmt: skip
    course_services.assignment_version_create(assignment=code, spec=CODE_SPEC)
    instructor = UserFactory()
    course.instructors.add(instructor)
    course_services.course_file_add(user=instructor, course=course, name="auth.log", content=LOG)
    flag = Assignment.objects.create(course=course, module=module, title="Qui s'est connecté ?", kind="flag",
                                     points=10, position=3)  # fmt: skip
    flag_spec = {"flag": "FLAG{10.0.4.7}", "artifacts": ["auth.log"]}
    course_services.assignment_version_create(assignment=flag, spec=flag_spec)
    return course, [first, second], quiz, code, flag


class Checks:
    """Console and script errors, and axe, on every page the learner opens."""

    def __init__(self, page):
        self.page, self.errors, self.axe = page, [], {}
        page.on("console", lambda m: self.errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: {e}"))

    def __call__(self):
        self.page.wait_for_load_state("load")
        violations = run_axe(self.page)
        if violations:
            self.axe[self.page.url] = violations


@pytest.mark.parametrize("lang", ["fr", "ar", "en"])
def test_a_learner_goes_through_lessons_a_quiz_a_code_exercise_and_a_flag(pages, worker, lang):
    course, lessons, quiz, code, flag = a_course()
    learner = UserFactory(full_name="Salma Idrissi")
    enroll(learner, course)
    page = pages.new(lang=lang, user=learner)
    check = Checks(page)
    text = TEXTS[lang]

    # The course page offers to start; the first lesson comes with the outline beside it.
    page.goto(f"/courses/{course.code}/")
    check()
    page.get_by_role("link", name=text["start"], exact=True).click()
    page.wait_for_url(f"**/lessons/{lessons[0].pk}/")
    check()
    assert page.locator("article").get_attribute("dir") == "ltr"  # French content, whatever the page
    assert page.locator(".course-outline li").count() == 5
    # "Mark as done" moves on to the next lesson, then to the quiz.
    page.locator("form.lesson-done button").click()
    page.wait_for_url(f"**/lessons/{lessons[1].pk}/")
    check()
    assert page.locator(".course-outline .done").count() == 1
    page.locator("form.lesson-done button").click()
    page.wait_for_url(f"**/assignments/{quiz.pk}/")
    check()

    # A wrong answer: the result repeats the question, the answer given and the explanation.
    page.check("input[name=q_q1][value=b]")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_selector("[data-status=graded]", timeout=TIMEOUT_MS)
    check()
    assert page.get_by_text("Law 31-08").first.is_visible()
    assert page.get_by_text("Law 09-08 created the CNDP.").is_visible()
    assert page.locator("[data-passed=no]").is_visible()
    assert page.locator("[data-attempts-left]").get_attribute("data-attempts-left") == "1"
    assert page.locator(".right-answer").count() == 0  # one attempt left: the answer is not given away
    assert text["your_answer"] in page.locator("main").inner_text()

    # Code: run the public tests (no attempt), then submit and get it graded in the sandbox.
    page.goto(f"/courses/{course.code}/assignments/{code.pk}/")
    page.wait_for_selector(".code-editor")
    check()
    page.evaluate(
        "c => document.querySelector('textarea[name=code]').kafaatEditor.setValue(c)",
        "def solve(records):\n    return len(records)\n",
    )
    page.locator("button[name=run_public]").click()
    page.wait_for_selector("section.public-run", timeout=TIMEOUT_MS)
    check()
    assert text["no_attempt"] in page.locator("section.public-run").inner_text()
    page.locator("main form button[type=submit]:not([name])").first.click()
    page.wait_for_selector("[data-status=graded]", timeout=TIMEOUT_MS)
    check()
    assert page.locator("[data-score]").get_attribute("data-score") == "10.00"

    # Flag: the artifact downloads; a wrong flag, then the right one.
    page.goto(f"/courses/{course.code}/assignments/{flag.pk}/")
    check()
    with page.expect_download() as download:
        page.locator('main a[href$="/files/auth.log"]').first.click()
    assert open(download.value.path(), "rb").read() == LOG
    page.fill("input[name=flag]", "FLAG{wrong}")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_selector("[data-status=graded]", timeout=TIMEOUT_MS)
    assert page.locator("[data-passed=no]").is_visible()
    page.goto(f"/courses/{course.code}/assignments/{flag.pk}/")
    page.fill("input[name=flag]", "FLAG{10.0.4.7}")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_selector("[data-status=graded]", timeout=TIMEOUT_MS)
    check()
    assert page.locator("[data-passed=yes]").is_visible()

    assert not check.errors, check.errors
    assert not check.axe, check.axe
    assert not pages.csp_violations, pages.csp_violations
