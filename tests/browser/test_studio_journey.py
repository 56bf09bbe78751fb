"""The instructor studio end to end, in French, in Debian's chromium with the session's real Celery
worker and the real bubblewrap sandbox (issue 14).

A new instructor (no staff flag: the course-author permission only) builds a path of two courses
with no YAML typed: a bank of questions, a CSV dataset and a log file attached to the course, a
quiz drawn from the bank, a code assignment whose test reads the dataset (checked against the
reference in the sandbox before it is saved), a flag with the log as artifact and a hint, an essay
with a rubric; previews the essay as a learner sees it; publishes; makes a path of the two courses.
A learner then finds the path and the course in the catalogue, enrolls and submits every kind."""

import io
import zipfile

import pytest
from django.contrib.auth.models import Permission

from courses import archive
from courses.models import Assignment, Competency, Course, LearningPath
from grading.models import Submission
from tests.browser.test_journeys import TIMEOUT_MS
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

ADMISSIONS_CSV = "service,age\nurgences,34\ncardiologie,71\npediatrie,6\n"
AUTH_LOG = "Dec  1 03:12:44 srv-his sshd[811]: Accepted password for root from 10.0.4.7\n"
REFERENCE = 'def total_age(admissions):\n    return int(admissions["age"].sum())\n'
FLAG = "KAFAAT{10.0.4.7}"


def set_code(page, field: str, code: str):
    """A code field is a CodeMirror editor over its textarea (static/js/code_editor.js)."""
    page.evaluate(
        "([name, code]) => document.querySelector(`textarea[name=${name}]`).kafaatEditor.setValue(code)",
        [field, code],
    )


def save(page, outline_url: str):
    page.locator("main form.authoring .actions button[type=submit]").last.click()
    page.wait_for_url(f"**{outline_url}")
    assert page.locator(".errors").count() == 0


def new_course(page, code: str, title: str):
    page.goto("/author/")
    page.get_by_role("link", name="Nouveau cours").click()
    page.fill("input[name=code]", code)
    page.fill("input[name=title]", title)
    page.select_option("select[name=language]", "fr")
    page.fill("input[name=workload_hours]", "6")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(f"**/author/{code}/")
    page.fill("input[name=title]", "Module 1")
    page.locator('main form[action$="/modules/new/"] button').click()
    page.wait_for_url(f"**/author/{code}/")


def assignment_page(page, kind: str):
    page.locator(f'main a[href$="/assignments/new/?kind={kind}"]').first.click()
    page.wait_for_load_state()
    assert page.locator("textarea[name=spec_text]").count() == 0  # the builder, not YAML


def publish(page):
    page.locator('main form[action$="/status/"]:has(input[value=published]) button').click()
    page.wait_for_load_state()


def test_a_new_instructor_builds_a_path_in_french_and_a_learner_takes_every_kind(pages, worker, tmp_path):
    Competency.objects.create(code="loi-09-08", name="Loi 09-08 et données de santé")
    instructor = UserFactory(full_name="Nadia Formatrice")
    instructor.user_permissions.add(Permission.objects.get(codename="add_course"))
    page = pages.new(lang="fr", user=instructor)
    outline = "/author/sante-101/"

    # --- Course 1: every kind ------------------------------------------------------------------
    new_course(page, "sante-101", "Données de santé : les bases")

    # Files: a dataset and a log, uploaded through the upload validator.
    (tmp_path / "admissions.csv").write_text(ADMISSIONS_CSV)
    (tmp_path / "auth.log").write_text(AUTH_LOG)
    for name in ("admissions.csv", "auth.log"):
        page.goto(outline)
        page.get_by_role("link", name="Fichiers").click()
        page.set_input_files("input[name=file]", str(tmp_path / name))
        page.locator("main form.authoring button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("main table").get_by_text(name).first.is_visible()

    # A bank of two questions on the competency, built in the quiz builder.
    page.goto(outline)
    page.get_by_role("link", name="Banques de questions").click()
    page.select_option("select[name=tag]", "loi-09-08")
    page.locator("main form[method=get] button[type=submit]").click()
    page.wait_for_url("**/banks/loi-09-08/")
    page.locator('button[name=builder_action][value="add:single"]').click()
    page.wait_for_load_state()
    for q, (prompt, right, wrong) in enumerate([
        ("Quelle loi protège les données personnelles au Maroc ?", "La loi 09-08", "La loi 31-08"),
        ("Quelle autorité contrôle les traitements ?", "La CNDP", "L'ANRT"),
    ]):  # fmt: skip
        page.fill(f"textarea[name=quiz-q{q}-prompt]", prompt)
        page.fill(f"input[name=quiz-q{q}-c0-text]", right)
        page.check(f"input[name=quiz-q{q}-c0-correct]")
        page.fill(f"input[name=quiz-q{q}-c1-text]", wrong)
        explanation = page.locator(f"textarea[name=quiz-q{q}-explanation]")
        explanation.locator("xpath=ancestor::details/summary").click()  # folded until asked for
        explanation.fill("Voir le module 1.")
    page.locator("main form.authoring > button[type=submit]").click()
    page.wait_for_url("**/sante-101/banks/")
    assert page.locator("table.banks tbody td").nth(2).inner_text() == "2"

    # A quiz that draws one question from the bank, per attempt.
    page.goto(outline)
    assignment_page(page, "quiz")
    page.fill("input[name=title]", "Quiz tiré de la banque")
    page.locator('button[name=builder_action][value="del:0"]').click()  # no fixed question
    page.wait_for_load_state()
    page.select_option("select[name=quiz-d0-tag]", "loi-09-08")
    page.fill("input[name=quiz-d0-count]", "1")
    page.fill("input[name=quiz-d0-points]", "10")
    save(page, outline)

    # Code: the test's argument is the course's CSV file, read as a DataFrame; the reference is
    # run in the sandbox and its output shown before anything is saved.
    assignment_page(page, "code")
    page.fill("input[name=title]", "Somme des âges")
    page.fill("input[name=entrypoint]", "total_age")
    page.wait_for_selector(".code-editor")
    set_code(page, "starter_code", "def total_age(admissions):\n    ...\n")
    set_code(page, "reference_solution", REFERENCE)
    page.fill("input[name=t0_id]", "admissions")
    page.select_option("select[name=t0_a0_mode]", "csv")
    page.select_option("select[name=t0_a0_file]", "admissions.csv")
    page.locator('button[name=builder_action][value="check"]').click()
    page.wait_for_selector("table.check-results", timeout=TIMEOUT_MS)
    assert "111" in page.locator("table.check-results").inner_text()  # 34 + 71 + 6
    save(page, outline)

    # Flag: the log attached, a hint after two wrong tries.
    assignment_page(page, "flag")
    page.fill("input[name=title]", "Qui s'est connecté en root ?")
    page.fill("textarea[name=prompt_markdown]", "Lisez le journal joint et trouvez l'adresse.")
    page.fill("input[name=builder-flag]", FLAG)
    page.check("input[name=builder-artifacts][value='auth.log']")
    page.locator('button[name=builder_action][value="add_hint"]').click()
    page.wait_for_load_state()
    page.fill("textarea[name=builder-hint-0-text]", "Cherchez « Accepted ».")
    page.fill("input[name=builder-hint-0-after_wrong]", "2")
    save(page, outline)

    # Essay: one criterion, its three levels given titles and points.
    assignment_page(page, "essay")
    page.fill("input[name=title]", "Analyse d'une fuite de données")
    page.fill("input[name=builder-c0-title]", "Argumentation")
    for level, (title, points) in enumerate([("Insuffisant", "0"), ("Correct", "2"), ("Excellent", "4")]):
        page.fill(f"input[name=builder-c0-l{level}-title]", title)
        page.fill(f"input[name=builder-c0-l{level}-points]", points)
    page.fill("input[name=builder-min_words]", "5")
    save(page, outline)

    course = Course.objects.get(code="sante-101")
    assert set(course.assignments.values_list("kind", flat=True)) == {"quiz", "code", "flag", "essay"}
    assert all(a.current_version_id for a in course.assignments.all())

    # The essay's preview is the learner's page: the rubric and the text box, and "try it".
    essay = course.assignments.get(kind="essay")
    page.goto(outline)
    page.locator(f'main a[href$="/assignments/{essay.pk}/preview/"]').click()
    assert page.get_by_role("heading", name="Argumentation").is_visible()
    assert page.get_by_role("cell", name="Excellent").is_visible()
    assert page.locator("textarea[name=text]").is_visible()

    page.goto(outline)
    publish(page)
    course.refresh_from_db()
    assert course.status == "published"

    # The export holds the bank and the files, and is byte-stable: importing it over the course
    # and exporting again gives the very bytes the instructor downloaded.
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter (zip)").click()
    exported = open(download.value.path(), "rb").read()
    names = zipfile.ZipFile(io.BytesIO(exported)).namelist()
    assert {"banks/loi-09-08.yaml", "files/admissions.csv", "files/auth.log"} <= set(names)
    assert len([n for n in names if n.startswith("assignments/")]) == 4
    archive.course_import(data=exported, user=instructor, update=True)
    assert archive.course_export(course=Course.objects.get(code="sante-101")) == exported

    # --- Course 2: a lesson, then the path -------------------------------------------------------
    new_course(page, "sante-102", "Gouvernance des données de santé")
    page.locator('main a[href$="/lessons/new/"]').first.click()
    page.fill("input[name=title]", "Qui décide de quoi ?")
    page.fill("textarea[name=body_markdown]", "Le *responsable du traitement* décide des finalités.")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url("**/author/sante-102/")
    publish(page)

    page.goto("/author/")
    page.get_by_role("link", name="Nouveau parcours").click()
    page.fill("input[name=code]", "donnees-sante")
    page.fill("input[name=title]", "Parcours données de santé")
    page.fill("textarea[name=summary]", "Deux cours pour débuter.")
    page.locator("main form.authoring button[type=submit]").first.click()
    page.wait_for_url("**/author/paths/donnees-sante/")
    for code, gate in (("sante-101", "required"), ("sante-102", "recommended")):
        add = page.locator('main form[action$="/courses/add/"]')
        add.locator("select[name=course]").select_option(value=str(Course.objects.get(code=code).pk))
        add.locator("select[name=gate]").select_option(gate)
        add.locator("button[type=submit]").click()
        page.wait_for_url("**/author/paths/donnees-sante/")
    page.select_option("select[name=status]", "published")
    page.locator("main form.authoring button[type=submit]").first.click()
    page.wait_for_load_state()
    path = LearningPath.objects.get(code="donnees-sante")
    assert path.status == "published"
    assert [pc.course.code for pc in path.path_courses.order_by("position")] == ["sante-101", "sante-102"]

    # --- The learner -----------------------------------------------------------------------------
    learner = UserFactory(full_name="Youssef Alaoui")
    lp = pages.new(lang="fr", user=learner)
    lp.goto("/")
    lp.fill("input[name=q]", "donnees de sante")  # no accents typed
    lp.locator("form[role=search] button[type=submit]").click()
    lp.wait_for_url("**/?q=*")
    assert lp.get_by_text("Parcours données de santé").first.is_visible()
    lp.locator('main a[href="/courses/sante-101/"]').first.click()
    lp.locator('main form[action="/courses/sante-101/enroll/"] button').click()
    lp.wait_for_load_state()

    def open_assignment(kind: str) -> Assignment:
        assignment = course.assignments.get(kind=kind)
        lp.goto("/courses/sante-101/")
        lp.locator(f'main a[href="/courses/sante-101/assignments/{assignment.pk}/"]').first.click()
        lp.wait_for_load_state()
        return assignment

    def submit_and_wait(status: str):
        lp.locator("main form.answer button[type=submit]:not([name])").click()
        lp.wait_for_selector(f"[data-status={status}]", timeout=TIMEOUT_MS)

    # The quiz shows the one question drawn for this attempt; its right answer is option a.
    open_assignment("quiz")
    radios = lp.locator("main form input[type=radio][value=a]")
    assert radios.count() == 1
    radios.check()
    submit_and_wait("graded")
    assert lp.locator("[data-score]").get_attribute("data-score").replace(",", ".") == "10.00"

    open_assignment("code")
    lp.wait_for_selector(".code-editor")
    lp.evaluate("code => document.querySelector('textarea[name=code]').kafaatEditor.setValue(code)", REFERENCE)
    submit_and_wait("graded")
    assert lp.locator("[data-score]").get_attribute("data-score").replace(",", ".") == "10.00"

    # The flag's artifact is downloadable from the assignment page.
    open_assignment("flag")
    with lp.expect_download() as download:
        lp.locator('main a[href$="/files/auth.log"]').first.click()
    assert open(download.value.path()).read() == AUTH_LOG
    lp.fill("input[name=flag]", FLAG)
    submit_and_wait("graded")

    open_assignment("essay")
    lp.fill("textarea[name=text]", "Le responsable du traitement notifie la CNDP et informe les patients sans délai.")
    submit_and_wait("needs_review")

    statuses = dict(Submission.objects.filter(user=learner).values_list("assignment__kind", "status"))
    assert statuses == {"quiz": "graded", "code": "graded", "flag": "graded", "essay": "needs_review"}
