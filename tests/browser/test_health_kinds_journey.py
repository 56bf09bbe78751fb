"""The health-data kinds end to end (issue 16), in Debian's chromium with the session's real Celery
worker and the real bubblewrap sandbox. A new instructor, working in French, builds a SQL exercise
(its datasets picked from the course's CSV files, checked against the reference in the sandbox),
a de-identification exercise (roles set per column, checked against the reference release) and a
FHIR exercise (the starter's rule row given its LOINC code), with no YAML typed. A learner,
working in Arabic, then sends a right and a wrong answer to each and reads the scores the worker
gave."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from assessment import kinds
from courses.models import Course
from tests.assessment import deid_fixtures, fhir_fixtures, sql_fixtures
from tests.browser.test_journeys import TIMEOUT_MS
from tests.browser.test_studio_journey import assignment_page, new_course, publish, save
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

OUTLINE = "/author/sante-201/"
FHIR_SPEC = {
    "resource_type": "Observation",
    "rules": [{"path": "Observation.code", "code": {"system": "http://loinc.org", "code": "8867-4"}}],
    "reference_answer": fhir_fixtures.text(fhir_fixtures._OBSERVATION),
}
FHIR_RIGHT = {"resource": FHIR_SPEC["reference_answer"]}
FHIR_WRONG = {"resource": FHIR_SPEC["reference_answer"].replace("8867-4", "8310-5")}  # body temperature


def check(page):
    page.locator('button[name=builder_action][value="check"]').click()
    page.wait_for_selector(".check-results", timeout=TIMEOUT_MS)
    assert page.locator(".errors").count() == 0, page.locator(".errors").all_inner_texts()


def test_an_instructor_builds_each_health_kind_and_a_learner_is_graded_right_and_wrong(pages, worker, tmp_path):
    instructor = UserFactory(full_name="Nadia Formatrice")
    instructor.user_permissions.add(Permission.objects.get(codename="add_course"))
    page = pages.new(lang="fr", user=instructor)
    new_course(page, "sante-201", "Données cliniques")

    files = {**sql_fixtures.COURSE_FILES, **deid_fixtures.COURSE_FILES}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        page.goto(OUTLINE)
        page.get_by_role("link", name="Fichiers").click()
        page.set_input_files("input[name=file]", str(tmp_path / name))
        page.locator("main form.authoring button[type=submit]").click()
        page.wait_for_load_state()

    # SQL: public and hidden datasets from the course's files, the reference run in the sandbox.
    page.goto(OUTLINE)
    assignment_page(page, "sql")
    page.fill("input[name=title]", "Admissions par service")
    page.fill("textarea[name=prompt_markdown]", sql_fixtures.PROMPT)
    for name in ("admissions.csv", "patients.csv"):
        page.check(f"input[name=ds_files][value='{name}']")
    for name in ("admissions_hidden.csv", "patients_hidden.csv"):
        page.check(f"input[name=hd_files][value='{name}']")
    page.fill("textarea[name=reference_query]", sql_fixtures.REFERENCE_QUERY)
    page.fill("input[name=tolerance]", "0.01")
    page.fill("textarea[name=starter_query]", sql_fixtures.STARTER_QUERY)
    check(page)
    assert "Cardiologie" in page.locator(".check-results").first.inner_text()
    save(page, OUTLINE)

    # De-identification: the patient table picked, a role per column, the targets, the reference.
    assignment_page(page, "deid")
    page.fill("input[name=title]", "Publier les admissions sans réidentifier")
    page.select_option("select[name=deid-source_file]", "admissions_casablanca.csv")
    page.locator('button[name=builder_action][value="pick"]').click()
    page.wait_for_selector("select[name=deid-role-6]")
    roles = ["direct", "direct", "quasi", "quasi", "quasi", "other", "sensitive"]
    for i, role in enumerate(roles):  # NOM, CIN, AGE, SEXE, CODE_POSTAL, SERVICE, DIAGNOSTIC
        page.select_option(f"select[name=deid-role-{i}]", role)
    page.fill("input[name=deid-k]", "3")
    page.fill("input[name=deid-l]", "2")
    page.fill("input[name=deid-max_loss]", "0.5")
    page.select_option("select[name=deid-answer_mode]", "either")
    page.fill("textarea[name=deid-reference_release]", deid_fixtures.REFERENCE_RELEASE)
    check(page)
    save(page, OUTLINE)

    # FHIR: an Observation; the starter's rule row (Observation.code, LOINC) given its code.
    assignment_page(page, "fhir")
    page.fill("input[name=title]", "Une fréquence cardiaque en FHIR")
    page.select_option("select[name=builder-resource_type]", "Observation")
    page.fill("input[name=builder-rule-0-path]", "Observation.code")
    page.select_option("select[name=builder-rule-0-check]", "code")
    page.fill("input[name=builder-rule-0-system]", "http://loinc.org")
    page.fill("input[name=builder-rule-0-value]", "8867-4")
    page.fill("textarea[name=builder-reference_answer]", FHIR_SPEC["reference_answer"])
    check(page)
    save(page, OUTLINE)

    course = Course.objects.get(code="sante-201")
    built = {a.kind: a for a in course.assignments.select_related("current_version")}
    assert set(built) == {"sql", "deid", "fhir"}
    sql_spec = kinds.editable_spec("sql", built["sql"].current_version.spec)
    assert {k: sql_spec[k] for k in ("dataset", "hidden_dataset", "reference_query")} == {
        k: sql_fixtures.SPEC[k] for k in ("dataset", "hidden_dataset", "reference_query")
    }
    deid_spec = built["deid"].current_version.spec
    assert (deid_spec["direct_identifiers"], deid_spec["quasi_identifiers"], deid_spec["sensitive"]) == (
        ["NOM", "CIN"], ["AGE", "SEXE", "CODE_POSTAL"], "DIAGNOSTIC"
    )  # fmt: skip
    assert built["fhir"].current_version.spec["rules"] == FHIR_SPEC["rules"]
    page.goto(OUTLINE)
    publish(page)

    # --- The learner, in Arabic --------------------------------------------------------------------
    learner = UserFactory(full_name="Youssef Alaoui")
    lp = pages.new(lang="ar", user=learner)
    lp.goto("/courses/sante-201/")
    lp.locator('main form[action="/courses/sante-201/enroll/"] button').click()
    lp.wait_for_load_state()

    def answer(kind: str, fill) -> Decimal:
        assignment = built[kind]
        lp.goto(f"/courses/sante-201/assignments/{assignment.pk}/")
        fill()
        lp.locator("main form.answer button[type=submit]:not([name])").click()
        lp.wait_for_selector("[data-status=graded]", timeout=TIMEOUT_MS)
        assert lp.locator("html").get_attribute("dir") == "rtl"
        return Decimal(lp.locator("[data-score]").get_attribute("data-score").replace(",", "."))

    def expected(kind: str, given: dict) -> Decimal:
        """The points the kind's own grader gives this answer, scaled to the assignment's."""
        result = kinds.get_grader(kind)(built[kind].current_version.spec, given)
        return (built[kind].points * Decimal(str(result.score)) / Decimal(str(result.max_score))).quantize(
            Decimal("0.01")
        )

    points = {kind: a.points for kind, a in built.items()}
    for kind, right, wrong, fill in (
        ("sql", sql_fixtures.RIGHT_ANSWER, sql_fixtures.WRONG_ANSWER,
         lambda a: lp.fill("textarea[name=query]", a["query"])),
        ("deid", deid_fixtures.RIGHT_ANSWER, deid_fixtures.WRONG_ANSWER,
         lambda a: (lp.check("input[name=mode][value=csv]"), lp.fill("textarea[name=csv]", a["csv"]))),
        ("fhir", FHIR_RIGHT, FHIR_WRONG, lambda a: lp.fill("textarea[name=resource]", a["resource"])),
    ):  # fmt: skip
        assert answer(kind, lambda a=right, f=fill: f(a)) == points[kind], kind
        wrong_score = answer(kind, lambda a=wrong, f=fill: f(a))
        assert wrong_score < points[kind], kind
        assert wrong_score == expected(kind, wrong), kind
        if kind == "sql":  # the feedback says how the hidden dataset went, never what it holds
            assert "Pneumologie" not in lp.content()
