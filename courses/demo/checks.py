"""What a demo course must be to teach from (issue 17), checked on its folder, and the counts of
what it holds. Used by `manage.py check_demo` (authors) and the tests (CI).

A course folder is checked for:
- shape: 4 to 6 modules, 2 to 4 lessons a module, 500 to 1,200 words of prose a lesson (words
  outside fenced code blocks), a last section that lists the lesson's sources, at least one
  graded assignment in every module, at least 8 questions in every quiz, at least 15 in every
  bank an exam draws from;
- claims: a fenced `python`, `sql` or `sh` block followed by an `output` block claims that output;
  the block is run (claimed_outputs) and must print exactly that. Every `python` block must run;
- references: every assignment's reference answer (each quiz question's answer, a code
  assignment's reference_solution, a SQL reference_query, a de-identification reference, a FHIR
  reference_answer, a flag, an essay's model_answer) gets full marks from its own grader
  (essays: is accepted and waits for review).

Code blocks run the way a learner would run them: python blocks of one lesson in order in one
interpreter, in a copy of the course's files/ folder; sql blocks in SQLite on an in-memory
database holding every CSV of files/ as a table (named after the file, column types inferred);
sh blocks in bash (LC_ALL=C.UTF-8) in that copy."""

from __future__ import annotations

import json
import math
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assessment import kinds
from courses import archive
from courses.content_stats import CourseCounts, prose_words, quiz_question_count

MODULES = (4, 6)
LESSONS = (2, 4)
WORDS = (500, 1200)
QUIZ_MIN_QUESTIONS = 8
BANK_MIN_QUESTIONS = 15
SOURCES_HEADING = re.compile(r"^##\s+(Sources|Références|References|المصادر|المراجع)\s*$", re.M)
RUNNABLE = {"python", "sql", "sh"}
_FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)[^\n]*$")
BLOCK_SECONDS = 120


@dataclass
class Block:
    info: str
    text: str
    line: int  # 1-based line of the opening fence
    claims: str | None = None  # the output block that follows it, if any


@dataclass
class CourseReport:
    folder: Path
    counts: CourseCounts | None = None
    problems: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # --show: each block's actual output

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")


# --- counting ---------------------------------------------------------------------------------


def split_blocks(markdown: str) -> tuple[str, list[Block]]:
    """The prose (fenced blocks removed) and the fenced blocks, each `python`/`sql`/`sh` block
    with the `output` block that follows it (blank lines between allowed)."""
    prose, blocks = [], []
    lines = markdown.split("\n")
    i = 0
    last_closed = None  # (block, index of the line after its closing fence)
    while i < len(lines):
        m = _FENCE.match(lines[i].strip()) if lines[i].lstrip().startswith(("```", "~~~")) else None
        if not m:
            prose.append(lines[i])
            i += 1
            continue
        fence, info = m.group(1), m.group(2).lower()
        start = i
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence[0] * len(fence)):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        block = Block(info=info, text="\n".join(body), line=start + 1)
        if (
            info == "output"
            and last_closed is not None
            and last_closed[0].info in RUNNABLE
            and last_closed[0].claims is None
            and all(not lines[j].strip() for j in range(last_closed[1], start))
        ):
            last_closed[0].claims = block.text
        else:
            blocks.append(block)
        last_closed = (block, i)
    return "\n".join(prose), [b for b in blocks if b.info != "output"]


# --- running the claims -----------------------------------------------------------------------

_PY_DRIVER = r"""
import contextlib, io, json, sys, traceback
blocks = json.load(sys.stdin)
scope = {"__name__": "__main__"}
out = []
for code in blocks:
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            exec(compile(code, "<lesson>", "exec"), scope)
        out.append({"stdout": buf.getvalue()})
    except BaseException:
        out.append({"stdout": buf.getvalue(), "error": traceback.format_exc(limit=3)})
        break
sys.__stdout__.write(json.dumps(out))
"""


def _same(actual: str, claimed: str) -> bool:
    def norm(text: str) -> list[str]:
        lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    return norm(actual) == norm(claimed)


def _infer(values: list[str]) -> str:
    present = [v for v in values if v != ""]
    if present and all(re.fullmatch(r"-?\d+", v) for v in present):
        return "INTEGER"
    try:
        if present and all(math.isfinite(float(v)) for v in present):
            return "REAL"
    except ValueError:
        pass
    return "TEXT"


def csv_database(files: Path) -> sqlite3.Connection:
    """An in-memory SQLite database holding every CSV of `files` as a table named after it."""
    import io

    import pandas as pd

    db = sqlite3.connect(":memory:")
    for path in sorted(files.glob("*.csv")):
        frame = pd.read_csv(io.BytesIO(path.read_bytes()), dtype=str, keep_default_na=False)
        columns = list(frame.columns)
        types = {c: _infer(frame[c].tolist()) for c in columns}
        table = re.sub(r"\W", "_", path.stem)
        db.execute(f'CREATE TABLE "{table}" ({", ".join(f"{chr(34)}{c}{chr(34)} {types[c]}" for c in columns)})')

        def cell(value: str, kind: str):
            if value == "":
                return None
            return int(value) if kind == "INTEGER" else float(value) if kind == "REAL" else value

        rows = [[cell(v, types[c]) for c, v in zip(columns, row, strict=True)] for row in frame.itertuples(index=False)]
        db.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(columns))})', rows)  # noqa: S608 - names from files/
    return db


def _sql_output(db: sqlite3.Connection, query: str) -> str:
    cursor = db.execute(query)
    lines = [" | ".join(d[0] for d in cursor.description or [])]
    for row in cursor.fetchall():
        lines.append(" | ".join("NULL" if v is None else str(v) for v in row))
    return "\n".join(lines) + "\n"


def _run_lesson_blocks(report: CourseReport, where: str, blocks: list[Block], files: Path, *, show: bool) -> int:
    """Run a lesson's python, sql and sh blocks; report each claim that does not hold. Returns
    the number of claims checked."""
    runnable = [b for b in blocks if b.info in RUNNABLE]
    if not runnable:
        return 0
    with tempfile.TemporaryDirectory(prefix="kafaat-lesson-") as tmp:
        work = Path(tmp) / "files"
        if files.is_dir():
            shutil.copytree(files, work)
        else:
            work.mkdir()
        python = [b for b in runnable if b.info == "python"]
        results: dict[int, dict] = {}
        if python:
            try:
                done = subprocess.run(
                    [sys.executable, "-c", _PY_DRIVER],
                    input=json.dumps([b.text for b in python]),
                    capture_output=True,
                    text=True,
                    cwd=work,
                    timeout=BLOCK_SECONDS,
                    env={"PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "HOME": tmp},
                )
                outs = json.loads(done.stdout or "[]")
            except (subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
                report.fail(where, f"the python blocks did not finish: {exc}")
                outs = []
            for b, out in zip(python, outs, strict=False):
                results[id(b)] = out
            if len(outs) < len(python) and outs and "error" not in outs[-1]:
                report.fail(where, "the python blocks stopped early")
        db = None
        for b in runnable:
            if b.info == "sql":
                try:
                    db = db or csv_database(work)
                    results[id(b)] = {"stdout": _sql_output(db, b.text)}
                except Exception as exc:  # noqa: BLE001 - any failure of a lesson's query is reported
                    results[id(b)] = {"stdout": "", "error": f"{type(exc).__name__}: {exc}"}
            elif b.info == "sh":
                try:
                    done = subprocess.run(
                        ["bash", "-c", b.text],
                        capture_output=True,
                        text=True,
                        cwd=work,
                        timeout=BLOCK_SECONDS,
                        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": tmp},
                    )
                    results[id(b)] = {"stdout": done.stdout}
                    if done.returncode:
                        results[id(b)]["error"] = f"exit status {done.returncode}: {done.stderr.strip()[:300]}"
                except subprocess.TimeoutExpired:
                    results[id(b)] = {"stdout": "", "error": "timed out"}
    claims = 0
    for b in runnable:
        out = results.get(id(b))
        at = f"{where} line {b.line} ({b.info})"
        if out is None:
            report.fail(at, "not run (an earlier python block failed)")
            continue
        if show:
            report.shown.append(f"--- {at}\n{out.get('stdout', '')}")
        if "error" in out:
            report.fail(at, f"fails: {out['error'].strip().splitlines()[-1] if out['error'].strip() else out['error']}")
            continue
        if b.claims is not None:
            claims += 1
            if not _same(out["stdout"], b.claims):
                report.fail(at, f"prints something else than its output block:\n{out['stdout']}")
    return claims


# --- reference answers ------------------------------------------------------------------------


def reference_answers(kind: str, spec: dict) -> list[dict]:
    """The answers an assignment says are right (several for a de-identification exercise that
    has a reference release and a reference solution)."""
    if kind == "code":
        return [{"code": spec.get("reference_solution", "")}]
    if kind == "sql":
        return [{"query": spec.get("reference_query", "")}]
    if kind == "fhir":
        return [{"resource": spec.get("reference_answer", "")}]
    if kind == "flag":
        return [{"flag": spec.get("flag", "")}]
    if kind == "essay":
        return [{"text": spec.get("model_answer", "")}]
    if kind == "deid":
        answers = []
        if spec.get("reference_release"):
            answers.append({"csv": spec["reference_release"]})
        if spec.get("reference_solution"):
            answers.append({"code": spec["reference_solution"]})
        return answers
    return []


def question_answer(q: dict):
    kind = q.get("type", "single")
    if kind in {"single", "multiple"}:
        return list(q.get("answer") or [])
    if kind == "numeric":
        return q.get("value")
    return (q.get("accepted") or [""])[0]


def _check_references(report: CourseReport, assignment: dict, banks: dict[str, list]) -> None:
    where, kind, spec = assignment["entry"], assignment["kind"], assignment["spec"]
    if kind == "quiz":
        questions = [dict(q) for q in spec.get("questions") or []]
        for d in spec.get("draws") or []:
            questions += [{**q, "id": f"{d['tag']}:{q['id']}"} for q in banks.get(d["tag"], [])]
        if not questions:
            return
        answer = {q["id"]: question_answer(q) for q in questions}
        result = kinds.get_grader("quiz")({"questions": questions}, answer)
        if result.score < result.max_score:
            wrong = [q["id"] for q in result.feedback["questions"] if not q["correct"]]
            report.fail(where, f"the reference answers of {', '.join(wrong)} are not right")
        return
    if kind == "essay" and not spec.get("model_answer"):
        report.fail(where, "an essay needs a model_answer in its spec")
        return
    answers = reference_answers(kind, spec)
    if not answers:
        report.fail(where, f"no reference answer for this {kind} assignment")
        return
    try:
        prepared = kinds.prepare_spec(kind, spec)
    except kinds.SpecError as exc:
        report.fail(where, f"spec.{exc.path}: {exc.message}")
        return
    except kinds.GraderUnavailable as exc:
        report.fail(where, f"the sandbox is unavailable: {exc}")
        return
    for answer in answers:
        try:
            kinds.validate_answer(kind, prepared, answer)
            result = kinds.get_grader(kind)(prepared, answer)
        except Exception as exc:  # noqa: BLE001 - every refusal of a reference is a problem to report
            report.fail(where, f"the reference answer is refused: {getattr(exc, 'message', exc)}")
            continue
        if kind == "essay":
            if not result.needs_review:
                report.fail(where, "the model answer does not wait for review")
        elif result.score < result.max_score:
            report.fail(where, f"the reference answer scores {result.score}/{result.max_score}: {result.feedback}")


# --- the course -------------------------------------------------------------------------------


def _keys_without_value(where: str, questions: list) -> list[str]:
    """Keys of a question or a choice that hold nothing: what an unquoted comma leaves in a YAML
    flow mapping (`{id: a, text: Oui, sauf exceptions}` makes a key "sauf exceptions" and cuts the
    text short)."""
    found = []
    for i, q in enumerate(questions):
        items = [(f"questions[{i}]", q)] + [
            (f"questions[{i}].choices[{j}]", c) for j, c in enumerate(q.get("choices") or [])
        ]
        for at, item in items:
            if isinstance(item, dict):
                found += [f"{where}: {at}: the key {k!r} has no value (a comma in an unquoted text?)"
                          for k, v in item.items() if v is None]  # fmt: skip
    return found


def check_course(folder: Path, *, run_blocks: bool = True, grade: bool = True, show: bool = False) -> CourseReport:
    """Check one course folder (see the module docstring). Parses through the archive reader,
    so whatever the importer refuses is reported too."""
    report = CourseReport(folder=folder)
    try:
        parsed = archive.archive_read(archive.zip_directory(folder))
    except archive.ArchiveError as exc:
        report.fail(folder.name, str(exc.message))
        return report
    outline = yaml.safe_load((folder / "course.yaml").read_text(encoding="utf-8"))
    counts = CourseCounts(
        code=parsed["code"], language=parsed["language"], track=parsed["track"] or "", level=parsed["level"]
    )
    report.counts = counts
    if not parsed["track"]:
        report.fail("course.yaml", "a demo course names its track")
    modules = parsed["modules"]
    counts.modules = len(modules)
    if not MODULES[0] <= len(modules) <= MODULES[1]:
        report.fail("course.yaml", f"{len(modules)} modules; a course has {MODULES[0]} to {MODULES[1]}")
    for i, (module, spec_module) in enumerate(zip(modules, outline["modules"], strict=True), start=1):
        lessons = module["lessons"]
        if not LESSONS[0] <= len(lessons) <= LESSONS[1]:
            report.fail(f"module {i}", f"{len(lessons)} lessons; a module has {LESSONS[0]} to {LESSONS[1]}")
        for lesson, entry in zip(lessons, spec_module["lessons"], strict=True):
            where = entry["file"]
            counts.lessons += 1
            words = prose_words(lesson["body"])
            counts.words += words
            if not WORDS[0] <= words <= WORDS[1]:
                report.fail(where, f"{words} words of prose; a lesson has {WORDS[0]} to {WORDS[1]}")
            headings = re.findall(r"^##\s+.*$", lesson["body"], re.M)
            if not headings or not SOURCES_HEADING.match(headings[-1]):
                report.fail(where, "the last section must list the sources (## Sources / ## المصادر)")
            if run_blocks:
                _prose, blocks = split_blocks(lesson["body"])
                counts.claims += _run_lesson_blocks(report, where, blocks, folder / "files", show=show)
        graded = [a for a in parsed["assignments"] if a["module"] == i and a["settings"]["points"] > 0]
        if not graded:
            report.fail(f"module {i}", "no graded assignment")
    banks = {b["tag"]: b["questions"] for b in parsed["banks"]}
    counts.bank_questions = sum(len(q) for q in banks.values())
    for tag, questions in banks.items():
        report.problems += _keys_without_value(f"banks/{tag}.yaml", questions)
        if len(questions) < BANK_MIN_QUESTIONS:
            report.fail(f"banks/{tag}.yaml", f"{len(questions)} questions; a bank has at least {BANK_MIN_QUESTIONS}")
    for a in parsed["assignments"]:
        counts.assignments[a["kind"]] = counts.assignments.get(a["kind"], 0) + 1
        if a["kind"] == "quiz":
            report.problems += _keys_without_value(a["entry"], a["spec"].get("questions") or [])
            counts.quiz_questions += len(a["spec"].get("questions") or [])
            if quiz_question_count(a["spec"]) < QUIZ_MIN_QUESTIONS:
                n = quiz_question_count(a["spec"])
                report.fail(a["entry"], f"{n} questions an attempt; a quiz has at least {QUIZ_MIN_QUESTIONS}")
        if grade:
            _check_references(report, a, banks)
    return report
