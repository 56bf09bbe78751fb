"""The demo curriculum (issue 17): every course folder meets the shape, every output a lesson
claims is what its code prints, every assignment's reference gets full marks from its own grader,
and the whole holds what the issue asks (courses, words, questions, languages per path). Also: the
checker itself reports what is wrong, and content_stats counts what was loaded."""

import io
import shutil

import pytest
import yaml
from django.core.management import call_command

from courses.content_stats import prose_words, quiz_question_count
from courses.demo import DEMO_DIR, demo_course_dirs, load_demo_content
from courses.demo.checks import check_course, split_blocks

FOLDERS = demo_course_dirs()
LEVELS = ("beginner", "intermediate", "advanced")  # foundations, practice, capstone


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_each_demo_course_has_its_shape_true_outputs_and_references_that_pass(folder):
    report = check_course(folder)
    assert report.problems == []
    assert report.counts.claims >= 0


def test_the_curriculum_holds_twelve_courses_40000_words_and_300_questions():
    rows = [check_course(f, run_blocks=False, grade=False).counts for f in FOLDERS]
    assert len(rows) >= 12
    assert sum(r.words for r in rows) >= 40_000
    assert sum(r.questions for r in rows) >= 300
    assert {r.language for r in rows} == {"fr", "ar", "en"}


def _course(code: str) -> dict:
    return yaml.safe_load((DEMO_DIR / "courses" / code / "course.yaml").read_text(encoding="utf-8"))


def test_each_path_has_foundations_practice_and_capstone_and_a_course_in_each_language():
    paths = yaml.safe_load((DEMO_DIR / "paths.yaml").read_text(encoding="utf-8"))["paths"]
    assert {p["track"] for p in paths} == {"data-science", "cybersecurity", "health-law", "data-governance"}
    for p in paths:
        courses = [(_course(c["code"]), c["gate"]) for c in p["courses"]]
        required = [c for c, gate in courses if gate == "required"]
        assert [c["level"] for c in required] == list(LEVELS), p["code"]
        assert all(c["track"] == p["track"] for c, _gate in courses), p["code"]
        assert {c["language"] for c, _gate in courses} == {"fr", "ar", "en"}, p["code"]


def test_each_path_names_competencies_its_courses_define():
    for p in yaml.safe_load((DEMO_DIR / "paths.yaml").read_text(encoding="utf-8"))["paths"]:
        defined = {c["code"] for step in p["courses"] for c in _course(step["code"]).get("competencies", [])}
        assert p["competencies"], p["code"]
        assert set(p["competencies"]) <= defined, p["code"]


def test_the_whole_health_law_path_exists_in_arabic_and_in_french():
    paths = {p["code"]: p for p in yaml.safe_load((DEMO_DIR / "paths.yaml").read_text(encoding="utf-8"))["paths"]}
    law = [p for p in paths.values() if p["track"] == "health-law"]
    by_language = {}
    for p in law:
        required = [_course(c["code"]) for c in p["courses"] if c["gate"] == "required"]
        (language,) = {c["language"] for c in required}
        by_language[language] = required
    assert set(by_language) == {"fr", "ar"}
    # The same path: as many modules, course by course, and the same kinds of assignment.
    for fr, ar in zip(by_language["fr"], by_language["ar"], strict=True):
        assert (fr["level"], len(fr["modules"])) == (ar["level"], len(ar["modules"]))


def test_every_lesson_lists_its_sources_and_cites_moroccan_texts_in_the_law_track():
    texts = "".join(
        p.read_text(encoding="utf-8")
        for f in FOLDERS
        if _course(f.name).get("track") == "health-law"
        for p in (f / "modules").rglob("*.md")
    )
    for citation in ("09-08", "2-09-165", "05-20", "2-21-406", "43-20", "446", "06-22", "34-09"):
        assert citation in texts or citation.replace("-", ".") in texts, citation


# --- the checker reports what is wrong ---------------------------------------------------------


def _tampered(tmp_path, code: str):
    target = tmp_path / code
    shutil.copytree(DEMO_DIR / "courses" / code, target)
    return target


def test_the_checker_reports_a_false_output_a_short_lesson_missing_sources_and_refused_references(tmp_path):
    folder = _tampered(tmp_path, "gov-102")
    lesson = sorted((folder / "modules").rglob("*.md"))[0]
    lesson.write_text(
        "Trop court.\n\n```python\nprint(6 * 7)\n```\n\n```output\n41\n```\n\n```sql\nSELECT 1 AS one\n```\n"
        "```output\none\n1\n```\n",
        encoding="utf-8",
    )
    # An essay whose model answer is too short: refused by its own grader.
    edits = {"essay": None}
    for path in sorted((folder / "assignments").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if doc["kind"] not in edits or edits[doc["kind"]]:
            continue
        spec = doc["spec"]
        spec["model_answer"] = "Trop court."
        edits[doc["kind"]] = path.relative_to(folder).as_posix()
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert all(edits.values()), edits
    problems = "\n".join(check_course(folder).problems)
    where = lesson.relative_to(folder).as_posix()
    assert f"{where} line 3 (python): prints something else than its output block:\n42" in problems
    assert f"{where} line 11 (sql)" not in problems  # that claim holds
    assert f"{where}: 2 words of prose" in problems
    assert f"{where}: the last section must list the sources" in problems
    assert f"{edits['essay']}: the reference answer is refused" in problems


def _first(folder, kind: str):
    for path in sorted((folder / "assignments").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if doc["kind"] == kind:
            return path, doc
    raise AssertionError(f"no {kind} assignment in {folder.name}")


def test_a_quiz_answer_naming_no_choice_and_a_deid_reference_that_keeps_names_are_refused(tmp_path):
    folder = _tampered(tmp_path, "ds-102")
    path, doc = _first(folder, "quiz")
    q = next(q for q in doc["spec"]["questions"] if q.get("type", "single") == "single")
    q["answer"] = ["zz"]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    (problem,) = check_course(folder).problems
    assert problem.startswith(f"ds-102: {path.relative_to(folder).as_posix()}, field spec.questions["), problem

    folder = _tampered(tmp_path, "gov-102")
    path, doc = _first(folder, "deid")
    doc["spec"].pop("reference_solution", None)
    doc["spec"]["reference_release"] = doc["spec"]["table"]  # the source as it is: names, exact ages
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    (problem,) = check_course(folder).problems
    assert problem.startswith(f"gov-102: {path.relative_to(folder).as_posix()}, field spec.reference_release"), problem


def test_the_datasets_an_assignment_embeds_are_the_course_s_generated_files():
    """A SQL dataset or a de-identification table is embedded in its assignment (graders read no
    course file): a copy of a file the course ships (its name, its columns, and more than a small
    excerpt's rows: an exercise may use a few rows of its own) is that file, byte for byte, and
    the ds-102 hidden variants are the generator's."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("ds", DEMO_DIR.parents[1] / "scripts" / "demo_data" / "ds.py")
    ds = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ds)
    hidden = {name.removesuffix(".csv"): data.decode() for name, data in ds.hidden_tables_en().items()}
    checked = 0
    for folder in FOLDERS:
        files = {p.stem: p.read_text(encoding="utf-8") for p in (folder / "files").glob("*.csv")}
        for path in sorted((folder / "assignments").glob("*.yaml")):
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            if doc["kind"] == "sql":
                for t in doc["spec"]["dataset"].get("tables", []):
                    same_columns = t["name"] in files and t["csv"].split("\n")[0] == files[t["name"]].split("\n")[0]
                    excerpt = t["csv"].count("\n") <= 50 < files.get(t["name"], "").count("\n")
                    if same_columns and not excerpt:
                        assert t["csv"] == files[t["name"]], (path, t["name"])
                        checked += 1
                if folder.name == "ds-102":
                    for t in doc["spec"]["hidden_dataset"]["tables"]:
                        assert t["csv"] in (hidden.get(t["name"]), files.get(t["name"])), (path, t["name"])
                        checked += 1
            elif doc["kind"] == "deid":
                assert doc["spec"]["table"] in files.values(), path
                checked += 1
    assert checked >= 15


def test_blocks_pair_a_code_block_with_the_output_block_after_it_and_prose_leaves_code_out():
    md = "Un deux trois.\n\n```python\nx = 1\n```\n\n```output\n1\n```\n\n```text\nnot run\n```\n"
    _prose, blocks = split_blocks(md)
    assert [(b.info, b.claims) for b in blocks] == [("python", "1"), ("text", None)]
    assert prose_words(md) == 3
    assert prose_words("الفصل 446 من مجموعة القانون الجنائي") == 6
    assert quiz_question_count({"questions": [{}, {}], "draws": [{"tag": "a", "count": 8}]}) == 10


@pytest.mark.django_db
def test_content_stats_prints_what_was_loaded_by_track_and_language():
    load_demo_content()
    rows = [check_course(f, run_blocks=False, grade=False).counts for f in FOLDERS]
    out = io.StringIO()
    call_command("content_stats", stdout=out)
    text = out.getvalue()
    words = sum(r.words for r in rows)
    questions = sum(r.questions for r in rows)
    total = next(line for line in text.splitlines() if line.startswith("all "))
    assert total.split()[1:] == [
        f"{len(rows):,}",
        f"{sum(r.modules for r in rows):,}",
        f"{sum(r.lessons for r in rows):,}",
        f"{words:,}",
        f"{sum(sum(r.assignments.values()) for r in rows):,}",
        f"{questions:,}",
    ]
    for heading in ("by track", "by language"):
        assert heading in text
    for name in ("data-science", "cybersecurity", "health-law", "data-governance", "fr ", "ar ", "en "):
        assert f"\n{name}" in text
