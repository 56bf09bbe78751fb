"""Grade one answer locally against one assignment file of the course archive, and print the
result as JSON: an instructor checks a new assignment before publishing it.

    python manage.py try_grader assignments/quiz-data-types.yaml answer.json

Bad input gets a message naming the file and the line or field, never a traceback."""

import json
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from assessment import kinds
from courses import archive


def _load(path: Path, *, what: str):
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such {what} file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot read it: {exc}") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}") from None
    try:
        return archive.safe_load(text)  # no aliases (billion laughs), no RecursionError
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CommandError(f"{path}: {where}invalid YAML: {problem}") from None


class Command(BaseCommand):
    help = "Grade SUBMISSION_FILE (JSON or YAML answer) against ASSIGNMENT_FILE (archive YAML); print JSON."

    def add_arguments(self, parser):
        parser.add_argument("assignment_file")
        parser.add_argument("submission_file")

    def handle(self, *args, assignment_file, submission_file, **options):
        apath, spath = Path(assignment_file), Path(submission_file)
        doc = _load(apath, what="assignment")
        if not isinstance(doc, dict):
            raise CommandError(f"{apath}: the file must hold one assignment (a mapping of fields)")
        fmt = doc.get("format")
        if fmt is not None and fmt != "kafaat-assignment/1":
            raise CommandError(f"{apath}: field format: expected kafaat-assignment/1, found {fmt!r}")
        kind = doc.get("kind")
        if kind not in kinds.KINDS:
            raise CommandError(f"{apath}: field kind: must be one of {', '.join(sorted(kinds.KINDS))}, found {kind!r}")
        spec = doc.get("spec")
        try:
            kinds.validate_spec(kind, spec)
            spec = kinds.prepare_spec(kind, spec)
        except kinds.SpecError as exc:
            field = f"spec.{exc.path}" if exc.path else "spec"
            raise CommandError(f"{apath}: field {field}: {exc.message}") from None
        answer = _load(spath, what="submission")
        if not isinstance(answer, dict):
            raise CommandError(f'{spath}: the answer must be a mapping, e.g. {{"flag": "..."}}')
        try:
            result = kinds.get_grader(kind)(spec, answer)
        except kinds.GraderUnavailable as exc:
            raise CommandError(f"the sandbox is unavailable: {exc}") from None
        except kinds.GraderError as exc:
            raise CommandError(f"{apath}: the grader could not grade: {exc}") from None
        points = doc.get("points")
        out = {
            "kind": kind,
            "score": result.score,
            "max_score": result.max_score,
            "needs_review": result.needs_review,
            "feedback": result.feedback,
            "staff_log": result.staff_log,
        }
        if isinstance(points, int | float) and not isinstance(points, bool) and result.max_score > 0:
            out["points"] = round(points * result.score / result.max_score, 2)
            out["out_of"] = points
        self.stdout.write(json.dumps(out, indent=2, ensure_ascii=False))
