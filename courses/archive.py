"""The course archive: one course as a versioned zip of YAML and Markdown files.

Format `kafaat-course/1`. Every entry but the cover image is UTF-8 text; paths use forward slashes.

    course.yaml                      the course, its competencies and its outline
    cover.png or cover.jpg           the course's cover image, if it has one
    modules/01-<slug>/01-<slug>.md   one Markdown file per lesson (its body only)
    assignments/<slug>.yaml          one file per assignment (format kafaat-assignment/1)
    banks/<tag>.yaml                 one file per question bank (format kafaat-bank/1)
    files/<name>                     the course's files (artifacts, datasets), byte for byte

course.yaml:

    format: kafaat-course/1
    code: ds-101                     # unique on the platform (a slug)
    title: Introduction aux données de santé
    summary: |
      ...
    language: fr                     # the content's language: fr, ar or en
    status: published                # draft, published or archived
    level: beginner                  # beginner, intermediate or advanced (default beginner)
    workload_hours: 12               # estimated, whole hours (1 to 1000); absent if unknown
    track: data-science              # the catalogue's track; absent if none
    cover: cover.png                 # the cover image's entry; absent if none
    competencies:                    # every competency the assignments refer to
    - code: data-quality
      name: Data quality
      description: ...
    modules:                         # in order
    - title: Les données de santé
      lessons:                       # in order
      - title: Qu'est-ce qu'une donnée de santé ?
        file: modules/01-les-donnees-de-sante/01-quest-ce-quune-donnee-de-sante.md

assignments/<slug>.yaml is one assignment: `format: kafaat-assignment/1`, slug (= the file
name), title, kind (quiz, code, flag, essay), module (1-based position of its module), position,
points, pass_threshold, required, attempts_allowed (or null), due_at (ISO 8601 with offset, or
null), late_policy {penalty_per_day, cutoff_days}, competencies (codes), prompt (Markdown) and
spec. The spec is
checked by the grader of its kind; derived keys (a code assignment's `expected`, a quiz's
`pools`) are never written and are recomputed on import; a flag is exported as its `flag_hash`.

banks/<tag>.yaml is one question bank of the course: `format: kafaat-bank/1`, tag (a competency
code, = the file name, listed in course.yaml's competencies) and questions (a list in the quiz
question format, checked by the quiz kind). Banks are written before the assignments, so a quiz
that draws from a bank (`draws`) freezes the archive's questions.

Guarantees:
- export is deterministic: sorted entries, fixed timestamps and permissions, stable YAML, so
  export -> import -> export gives the same bytes;
- a broken archive is refused with an ArchiveError naming the entry and the line (YAML syntax)
  or the field;
- sizes are bounded whatever the zip's headers say (settings COURSE_ARCHIVE_*): the upload, the
  number of files, each file and all of them as they inflate, each YAML document in bytes before
  it is parsed and in nodes while it is;
- an import changes only what its course owns: a competency that other courses use (through their
  assignments or their paths) is referenced as it is, not renamed, unless the importer is staff
  or teaches every one of those courses;
- files/<name> entries are the course's files (courses.models.CourseFile): a name as
  courses.services.FILE_NAME_RE allows, a kind from COURSE_FILE_KINDS (sniffed from the content);
  every name a spec's `artifacts` lists must be one of them; an update removes the course's
  files the archive no longer has;
- an import is one transaction: it all lands or nothing does. Without `update`, an existing
  course code is refused; with it, the course is brought in line with the archive (modules and
  lessons matched by position, assignments by slug; a changed spec or prompt becomes a new
  version, so earlier submissions keep theirs).
"""

from __future__ import annotations

import hashlib
import io
import math
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.template.defaultfilters import filesizeformat
from django.utils.text import slugify
from django.utils.translation import gettext as _

from assessment import kinds
from kernel.errors import ApplicationError, PermissionDenied
from kernel.uploads import sniff_kind

from . import banks, permissions, services
from .markdown import render_markdown
from .models import (
    MAX_ATTEMPTS_ALLOWED,
    MAX_LATE_CUTOFF_DAYS,
    MAX_POSITION,
    MAX_WORKLOAD_HOURS,
    Assignment,
    Competency,
    Course,
    CourseCover,
    CourseFile,
    Lesson,
    LessonProgress,
    Level,
    Module,
    PublicationStatus,
    QuestionBank,
    Track,
)

COURSE_FORMAT = "kafaat-course/1"
ASSIGNMENT_FORMAT = "kafaat-assignment/1"
BANK_FORMAT = "kafaat-bank/1"
# The cover's entry, by the kind its content is (kernel.uploads).
COVER_ENTRIES = {"png": "cover.png", "jpeg": "cover.jpg"}
# Limits (settings COURSE_ARCHIVE_*, read at each import): the upload, the number of files, each
# file and all of them once inflated (counted as they inflate: a zip's headers can lie), and each
# YAML document in bytes and in nodes (PyYAML parses about 0.2 MB, or 30,000 nodes, a second).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_READ_CHUNK = 64 * 1024


class ArchiveError(ApplicationError):
    """The archive is refused. `entry` names the file inside the zip, `line` the YAML line."""

    def __init__(self, entry: str, message: str, *, line: int | None = None, field: str | None = None):
        where = entry + (f", line {line}" if line else "") + (f", field {field}" if field else "")
        super().__init__(f"{where}: {message}", field=field)
        self.entry, self.line, self.detail = entry, line, message


# --- YAML -------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Stable, readable YAML: keys in the order given, multi-line text as literal blocks."""

    def ignore_aliases(self, data):
        return True  # the loader refuses aliases, so never write one


def _str_representer(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def _dump(data) -> bytes:
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    return text.encode("utf-8")


class _SafeLoader(yaml.SafeLoader):
    """SafeLoader without aliases: `*name` lets a few lines expand to gigabytes ("billion
    laughs") once the value is copied to JSON, and our formats never need them. It also counts
    the nodes it composes and stops past COURSE_ARCHIVE_MAX_YAML_NODES: the pure-Python parser
    spends seconds on a few hundred thousand, so a long document is refused early."""

    def __init__(self, stream):
        super().__init__(stream)
        self.nodes_left = settings.COURSE_ARCHIVE_MAX_YAML_NODES

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, _("aliases (*name) are not allowed"), mark)
        self.nodes_left -= 1
        if self.nodes_left < 0:
            mark = self.peek_event().start_mark
            limit = settings.COURSE_ARCHIVE_MAX_YAML_NODES
            message = _("more than %(n)d values (the limit for one YAML document)") % {"n": limit}
            raise yaml.composer.ComposerError(None, None, message, mark)
        return super().compose_node(parent, index)


def _yaml_too_large() -> str:
    limit = settings.COURSE_ARCHIVE_MAX_YAML_BYTES
    return _("larger than %(limit)s (the limit for one YAML document)") % {"limit": filesizeformat(limit)}


def safe_load(text: str):
    """yaml.safe_load for untrusted text: no aliases, at most COURSE_ARCHIVE_MAX_YAML_BYTES
    characters and COURSE_ARCHIVE_MAX_YAML_NODES nodes, and nesting too deep for the parser is a
    YAMLError like any other syntax error (not a RecursionError)."""
    if len(text) > settings.COURSE_ARCHIVE_MAX_YAML_BYTES:
        raise yaml.YAMLError(_yaml_too_large())
    try:
        data = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise yaml.YAMLError(_("nested too deeply")) from None
    problem = _unstorable(data)
    if problem:
        raise yaml.YAMLError(problem)
    return data


def _unstorable(data) -> str | None:
    """What PostgreSQL's text and jsonb columns cannot hold: NUL characters ("\\0" escapes)
    and the floats .inf and .nan."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return _("NUL characters (\\0) are not allowed")
        elif isinstance(value, float):
            if not math.isfinite(value):
                return _(".inf and .nan are not numbers JSON can store")
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


def _load_yaml(entry: str, raw: bytes):
    if len(raw) > settings.COURSE_ARCHIVE_MAX_YAML_BYTES:  # before decoding or parsing it
        raise ArchiveError(entry, _yaml_too_large())
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArchiveError(entry, _("not UTF-8 text (byte %(pos)d)") % {"pos": exc.start}) from None
    try:
        return safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ArchiveError(entry, _("invalid YAML: %(problem)s") % {"problem": problem},
                           line=mark.line + 1 if mark else None) from None  # fmt: skip


# --- Reading and validating (no database writes) ----------------------------------------------


class _Fields:
    """Typed access to one YAML mapping, raising ArchiveError that names entry and field."""

    def __init__(self, entry: str, data, prefix: str = ""):
        if not isinstance(data, dict):
            raise ArchiveError(entry, _("expected a mapping"), field=prefix or None)
        self.entry, self.data, self.prefix = entry, data, prefix

    def fail(self, key: str, message: str):
        raise ArchiveError(self.entry, message, field=f"{self.prefix}{key}")

    def get(self, key, kind, *, required=True, default=None, max_length=None):
        if key not in self.data or self.data[key] is None:
            if required:
                self.fail(key, _("this field is required"))
            return default
        value = self.data[key]
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.fail(key, _("expected a number"))
            return value
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            self.fail(key, _("expected a whole number"))
        if kind is str and not isinstance(value, str):
            self.fail(key, _("expected text"))
        if kind is str and max_length is not None and len(value) > max_length:
            self.fail(key, _("longer than %(n)d characters") % {"n": max_length})
        if kind is bool and not isinstance(value, bool):
            self.fail(key, _("expected true or false"))
        if kind is list and not isinstance(value, list):
            self.fail(key, _("expected a list"))
        if kind is dict and not isinstance(value, dict):
            self.fail(key, _("expected a mapping"))
        return value


def _decimal(f: _Fields, key: str, *, minimum=0, maximum=None, required=True, default=None) -> Decimal | None:
    value = f.get(key, float, required=required, default=default)
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        f.fail(key, _("expected a number"))
    if not number.is_finite():
        f.fail(key, _("expected a number"))
    if number < minimum or (maximum is not None and number > maximum):
        f.fail(key, _("out of range"))
    return number


def _slug(f: _Fields, key: str) -> str:
    value = f.get(key, str)
    if not value or slugify(value) != value or len(value) > 64:
        f.fail(key, _("expected a slug (lowercase letters, digits and hyphens)"))
    return value


def _parse_assignment(entry: str, data) -> dict:
    f = _Fields(entry, data)
    if f.get("format", str) != ASSIGNMENT_FORMAT:
        f.fail("format", _("expected %(format)s") % {"format": ASSIGNMENT_FORMAT})
    kind = f.get("kind", str)
    if kind not in Assignment.Kind.values:
        f.fail("kind", _("expected one of %(kinds)s") % {"kinds": ", ".join(Assignment.Kind.values)})
    due_at = f.data.get("due_at")
    if isinstance(due_at, str):
        try:
            due_at = datetime.fromisoformat(due_at)
        except ValueError:
            f.fail("due_at", _("expected an ISO 8601 date and time"))
    if due_at is not None and (not isinstance(due_at, datetime) or due_at.tzinfo is None):
        f.fail("due_at", _("expected an ISO 8601 date and time with its offset"))
    late = _Fields(entry, f.get("late_policy", dict, required=False, default={}), "late_policy.")
    competencies = f.get("competencies", list, required=False, default=[])
    for i, code in enumerate(competencies):
        if not isinstance(code, str) or slugify(code) != code or not code:
            f.fail(f"competencies[{i}]", _("expected a competency code"))
    spec = f.get("spec", dict)
    try:
        kinds.validate_spec(kind, spec)
    except kinds.SpecError as exc:
        raise ArchiveError(entry, exc.message, field=f"spec.{exc.path}" if exc.path else "spec") from None
    except kinds.GraderError as exc:
        raise ArchiveError(entry, str(exc), field="kind") from None
    attempts = f.get("attempts_allowed", int, required=False)
    if attempts is not None and not 1 <= attempts <= MAX_ATTEMPTS_ALLOWED:
        f.fail("attempts_allowed", _("expected 1 to %(max)d, or null") % {"max": MAX_ATTEMPTS_ALLOWED})
    cutoff = late.get("cutoff_days", int, required=False)
    if cutoff is not None and not 0 <= cutoff <= MAX_LATE_CUTOFF_DAYS:
        late.fail("cutoff_days", _("out of range"))
    position = f.get("position", int, required=False, default=0)
    if not 0 <= position <= MAX_POSITION:
        f.fail("position", _("out of range"))
    return {
        "slug": _slug(f, "slug"),
        "kind": kind,
        "module": f.get("module", int),
        "position": position,
        "prompt": f.get("prompt", str, required=False, default=""),
        "spec": services.editable_spec(kind=kind, spec=spec),
        "competencies": competencies,
        "settings": {
            "title": f.get("title", str, max_length=200),
            "points": _decimal(f, "points", maximum=Decimal("99999.99")),
            "pass_threshold": _decimal(f, "pass_threshold", maximum=1, required=False, default=0.5),
            "is_required": f.get("required", bool, required=False, default=True),
            "attempts_allowed": attempts,
            "due_at": due_at,
            "late_penalty_per_day": _decimal(late, "penalty_per_day", maximum=100, required=False, default=0),
            "late_cutoff_days": cutoff,
        },
    }


def _parse_bank(entry: str, data) -> dict:
    f = _Fields(entry, data)
    if f.get("format", str) != BANK_FORMAT:
        f.fail("format", _("expected %(format)s") % {"format": BANK_FORMAT})
    tag = _slug(f, "tag")
    if f"banks/{tag}.yaml" != entry:
        f.fail("tag", _("the tag must match the file name"))
    questions = f.get("questions", list)
    try:
        banks.validate_questions(questions)
    except kinds.SpecError as exc:
        raise ArchiveError(entry, exc.message, field=exc.path or "questions") from None
    return {"tag": tag, "questions": questions, "entry": entry}


def load_assignment_file(path) -> dict:
    """Parse and validate one assignment file (as `try_grader` reads it). Returns the parsed
    assignment: slug, kind, module, position, prompt, spec, competencies, settings."""
    path = Path(path)
    return _parse_assignment(path.name, _load_yaml(path.name, path.read_bytes()))


class _Zip:
    """The archive's zip, read with limits its headers cannot talk past: each entry is inflated a
    chunk at a time and what comes out of the decompressor is counted, per entry and in all."""

    def __init__(self, data: bytes):
        limit = settings.COURSE_ARCHIVE_MAX_BYTES
        if len(data) > limit:
            raise ArchiveError(_("archive"), _("larger than %(limit)s") % {"limit": filesizeformat(limit)})
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zf.infolist()
        except (zipfile.BadZipFile, ValueError, EOFError):
            raise ArchiveError(_("archive"), _("not a zip file")) from None
        if len(infos) > settings.COURSE_ARCHIVE_MAX_ENTRIES:
            message = _("more than %(n)d files") % {"n": settings.COURSE_ARCHIVE_MAX_ENTRIES}
            raise ArchiveError(_("archive"), message)
        self.infos = {i.filename: i for i in infos if not i.is_dir()}
        self.names = set(self.infos)
        self.inflated = 0  # bytes inflated so far, every entry and every read counted

    def read(self, entry: str, *, keep: bool = True) -> bytes:
        """The entry's bytes (or, without `keep`, nothing: a size check that holds no memory)."""
        info = self.infos.get(entry)
        if info is None:
            raise ArchiveError(entry, _("missing from the archive"))
        per_entry, total = settings.COURSE_ARCHIVE_MAX_ENTRY_BYTES, settings.COURSE_ARCHIVE_MAX_TOTAL_BYTES
        entry_too_large = _("larger than %(limit)s once uncompressed (the limit for one file)")
        if info.file_size > per_entry:  # what the header admits to is refused without inflating
            raise ArchiveError(entry, entry_too_large % {"limit": filesizeformat(per_entry)})
        chunks, size = [], 0
        try:
            with self.zf.open(info) as fh:
                while chunk := fh.read(_READ_CHUNK):
                    size += len(chunk)
                    self.inflated += len(chunk)
                    if size > per_entry:
                        raise ArchiveError(entry, entry_too_large % {"limit": filesizeformat(per_entry)})
                    if self.inflated > total:
                        message = _("the archive is larger than %(limit)s once uncompressed (the limit for all files)")
                        raise ArchiveError(entry, message % {"limit": filesizeformat(total)})
                    if keep:
                        chunks.append(chunk)
        # RuntimeError: an encrypted entry; NotImplementedError: a compression zipfile lacks.
        except (
            zipfile.BadZipFile,
            ValueError,
            OSError,
            EOFError,
            zlib.error,
            RuntimeError,
            NotImplementedError,
        ) as exc:
            raise ArchiveError(entry, _("unreadable: %(error)s") % {"error": exc}) from None
        return b"".join(chunks)


@dataclass
class ArchiveSummary:
    """What a quick pass over an archive found: it is within every size limit, and this big."""

    inflated_bytes: int
    files: int


def archive_scan(data: bytes) -> ArchiveSummary:
    """Check an archive's sizes without parsing anything: every entry is inflated (and thrown
    away) against the per-file and total limits, and each YAML file against its own. Cheap (zlib
    inflates hundreds of megabytes a second), so a web request can afford it to decide whether
    the archive is small enough to import at once. Raises ArchiveError naming the entry."""
    zf = _Zip(data)
    for entry in sorted(zf.names):
        before = zf.inflated
        zf.read(entry, keep=False)
        if entry.endswith(".yaml") and zf.inflated - before > settings.COURSE_ARCHIVE_MAX_YAML_BYTES:
            raise ArchiveError(entry, _yaml_too_large())
    return ArchiveSummary(inflated_bytes=zf.inflated, files=len(zf.names))


Progress = Callable[[int, int], None]  # (steps done, steps in all)


def _read_cover(f: _Fields, read) -> bytes | None:
    """The cover image course.yaml names (`cover: cover.png`), checked as an uploaded cover is:
    PNG or JPEG by its content (matching the entry's name), at most COURSE_COVER_MAX_BYTES."""
    entry = f.get("cover", str, required=False)
    if entry is None:
        return None
    if entry not in COVER_ENTRIES.values():
        f.fail("cover", _("expected %(names)s") % {"names": " or ".join(COVER_ENTRIES.values())})
    data = read(entry)
    try:
        services.checked_cover(data)
    except ApplicationError as exc:
        raise ArchiveError(entry, exc.message) from None
    if COVER_ENTRIES[sniff_kind(data[:2048])] != entry:
        raise ArchiveError(entry, _("the image's content does not match its name"))
    return data


def archive_read(data: bytes, *, progress: Progress | None = None) -> dict:
    """Parse and validate a whole archive without touching the database (but to look up the
    competencies it names), rendering its lessons. `progress` is told after each file."""
    zf = _Zip(data)
    read = zf.read
    f = _Fields("course.yaml", _load_yaml("course.yaml", read("course.yaml")))
    if f.get("format", str) != COURSE_FORMAT:
        f.fail("format", _("expected %(format)s") % {"format": COURSE_FORMAT})
    language = f.get("language", str)
    if language not in dict(settings.LANGUAGES):
        f.fail("language", _("expected one of %(codes)s") % {"codes": ", ".join(dict(settings.LANGUAGES))})
    status = f.get("status", str, required=False, default=PublicationStatus.DRAFT)
    if status not in PublicationStatus.values:
        f.fail("status", _("expected draft, published or archived"))
    level = f.get("level", str, required=False, default=Level.BEGINNER)
    if level not in Level.values:
        f.fail("level", _("expected beginner, intermediate or advanced"))
    workload_hours = f.get("workload_hours", int, required=False)
    if workload_hours is not None and not 1 <= workload_hours <= MAX_WORKLOAD_HOURS:
        f.fail("workload_hours", _("expected 1 to %(max)d, or null") % {"max": MAX_WORKLOAD_HOURS})
    track = f.get("track", str, required=False, default="")
    if track and track not in Track.values:
        f.fail("track", _("expected one of %(tracks)s") % {"tracks": ", ".join(Track.values)})
    cover = _read_cover(f, read)
    competencies = []
    for i, item in enumerate(f.get("competencies", list, required=False, default=[])):
        c = _Fields("course.yaml", item, f"competencies[{i}].")
        competencies.append(
            {
                "code": _slug(c, "code"),
                "name": c.get("name", str, max_length=200),
                "description": c.get("description", str, required=False, default=""),
            }
        )
    outline = []
    module_items = f.get("modules", list)
    if not module_items:
        f.fail("modules", _("a course needs at least one module"))
    for i, item in enumerate(module_items):
        m = _Fields("course.yaml", item, f"modules[{i}].")
        lessons = []
        for j, litem in enumerate(m.get("lessons", list, required=False, default=[])):
            lf = _Fields("course.yaml", litem, f"modules[{i}].lessons[{j}].")
            lessons.append({"title": lf.get("title", str, max_length=200), "file": lf.get("file", str)})
        outline.append({"title": m.get("title", str, max_length=200), "lessons": lessons})
    assignment_entries = sorted(n for n in zf.names if n.startswith("assignments/"))
    bank_entries = sorted(n for n in zf.names if n.startswith("banks/"))
    file_entries = sorted(n for n in zf.names if n.startswith("files/"))
    # Steps: course.yaml, each lesson, each assignment, each bank, each file, and the writing (by the caller).
    lessons = sum(len(m["lessons"]) for m in outline)
    total = 1 + lessons + len(assignment_entries) + len(bank_entries) + len(file_entries) + 1
    done = 1
    if progress:
        progress(done, total)

    modules = []
    for m in outline:
        lessons = []
        for lesson in m["lessons"]:
            entry = lesson["file"]
            try:
                body = read(entry).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ArchiveError(entry, _("not UTF-8 text (byte %(pos)d)") % {"pos": exc.start}) from None
            if "\x00" in body:
                raise ArchiveError(entry, _("holds a NUL byte (byte %(pos)d)") % {"pos": body.index("\x00")})
            lessons.append({"title": lesson["title"], "body": body, "html": render_markdown(body)})
            done += 1
            if progress:
                progress(done, total)
        modules.append({"title": m["title"], "lessons": lessons})
    assignments = []
    for entry in assignment_entries:
        if not entry.endswith(".yaml"):
            raise ArchiveError(entry, _("assignment files end in .yaml"))
        parsed = _parse_assignment(entry, _load_yaml(entry, read(entry)))
        if f"assignments/{parsed['slug']}.yaml" != entry:
            raise ArchiveError(entry, _("the slug must match the file name"), field="slug")
        if not 1 <= parsed["module"] <= len(modules):
            raise ArchiveError(entry, _("no module at this position in course.yaml"), field="module")
        parsed["entry"] = entry
        assignments.append(parsed)
        done += 1
        if progress:
            progress(done, total)
    question_banks = []
    for entry in bank_entries:
        if not entry.endswith(".yaml"):
            raise ArchiveError(entry, _("question bank files end in .yaml"))
        question_banks.append(_parse_bank(entry, _load_yaml(entry, read(entry))))
        done += 1
        if progress:
            progress(done, total)
    course_files = {}
    for entry in file_entries:
        name = entry.removeprefix("files/")
        try:
            services.check_file_name(name)
        except ApplicationError as exc:
            raise ArchiveError(entry, exc.message) from None
        content = read(entry)
        if sniff_kind(content[:2048], name) not in services.COURSE_FILE_KINDS:
            raise ArchiveError(entry, _("This kind of file cannot be attached to a course."))
        course_files[name] = content
        done += 1
        if progress:
            progress(done, total)
    for a in assignments:
        for i, name in enumerate(a["spec"].get("artifacts") or []):
            if name not in course_files:
                message = _("no file %(name)s in files/") % {"name": name}
                raise ArchiveError(a["entry"], message, field=f"spec.artifacts[{i}]")
    known = {c["code"] for c in competencies}
    for b in question_banks:
        if b["tag"] not in known:
            message = _("the competency %(code)s is not listed in course.yaml") % {"code": b["tag"]}
            raise ArchiveError(b["entry"], message, field="tag")
    wanted = {code for a in assignments for code in a["competencies"]} - known
    if wanted:
        existing = set(Competency.objects.filter(code__in=wanted).values_list("code", flat=True))
        for a in assignments:
            for i, code in enumerate(a["competencies"]):
                if code not in known and code not in existing:
                    raise ArchiveError(
                        a["entry"], _("unknown competency %(code)s") % {"code": code}, field=f"competencies[{i}]"
                    )
    return {
        "code": _slug(f, "code"),
        "title": f.get("title", str, max_length=200),
        "summary": f.get("summary", str, required=False, default=""),
        "language": language,
        "status": status,
        "level": level,
        "workload_hours": workload_hours,
        "track": track,
        "cover": cover,
        "competencies": competencies,
        "modules": modules,
        "assignments": assignments,
        "banks": question_banks,
        "files": course_files,
        "steps": total,
    }


# --- What an import would change (no database writes) ------------------------------------------


def _already_exists() -> ArchiveError:
    message = _("a course with this code already exists (import with update to replace it)")
    return ArchiveError("course.yaml", message, field="code")


def _not_course_editor() -> PermissionDenied:
    return PermissionDenied(_("Only this course's instructors and staff may update it."))


def _kind_changed(entry: str) -> ArchiveError:
    return ArchiveError(entry, _("the kind of an existing assignment cannot change"), field="kind")


def _answered_would_be_removed(slugs) -> ArchiveError:
    names = ", ".join(sorted(set(slugs)))
    return ArchiveError("assignments/", _("these assignments have submissions and cannot be removed: %(names)s")
                        % {"names": names})  # fmt: skip


def _pools_differ(stored: dict, spec: dict, bank_questions: dict[str, list]) -> bool:
    """Whether a quiz that draws would freeze other questions (its `pools`) from the archive's
    banks than its current version did: the import then makes it a new version too."""
    draws = spec.get("draws") or []
    if not draws:
        return False
    tags = {d.get("tag") for d in draws if isinstance(d, dict)}
    return stored.get(banks.POOLS) != {tag: bank_questions.get(tag) for tag in sorted(tags, key=str)}


def _assignment_changed(
    assignment: Assignment, a: dict, module: Module | None, bank_questions: dict[str, list]
) -> tuple[bool, bool]:
    """(anything differs, the spec, prompt or drawn pools differ) between an assignment and its
    archive entry, whose quiz draws from the archive's banks (`bank_questions`, by tag)."""
    version = assignment.current_version
    content = version is None or (
        services.editable_spec(kind=assignment.kind, spec=version.spec)
        != services.editable_spec(kind=assignment.kind, spec=a["spec"])
        or version.prompt_markdown != a["prompt"]
        or (assignment.kind == Assignment.Kind.QUIZ and _pools_differ(version.spec, a["spec"], bank_questions))
    )
    settings_changed = any(getattr(assignment, key) != value for key, value in a["settings"].items())
    placed = module is None or assignment.module_id != module.pk or assignment.position != a["position"]
    codes = {c.code for c in assignment.competencies.all()}
    return content or settings_changed or placed or codes != set(a["competencies"]), content


def _bank_changes(course: Course | None, archive_banks: list[dict]) -> dict:
    """The course's question banks created, updated (other questions) or removed, by tag, each
    with its number of questions (an updated one also with the number it had, `was`)."""
    changes = {"created": [], "updated": [], "removed": [], "unchanged": 0}
    old = {b.competency.code: b for b in course.question_banks.select_related("competency")} if course else {}
    for b in archive_banks:
        bank = old.pop(b["tag"], None)
        item = {"tag": b["tag"], "questions": len(b["questions"])}
        if bank is None:
            changes["created"].append(item)
        elif bank.questions != b["questions"]:
            changes["updated"].append({**item, "was": len(bank.questions)})
        else:
            changes["unchanged"] += 1
    changes["removed"] = [{"tag": tag, "questions": len(old[tag].questions)} for tag in sorted(old)]
    return changes


def _file_changes(course: Course | None, archive_files: dict[str, bytes]) -> dict:
    """The course's files created, updated (other bytes) or removed, by name. Only the files
    whose size is the same are loaded to compare their bytes."""
    changes = {"created": [], "updated": [], "removed": [], "unchanged": 0}
    sizes = dict(course.files.values_list("name", "size")) if course else {}
    same_size = [name for name, content in archive_files.items() if sizes.get(name) == len(content)]
    contents = dict(course.files.filter(name__in=same_size).values_list("name", "content")) if same_size else {}
    for name, content in sorted(archive_files.items()):
        if name not in sizes:
            changes["created"].append(name)
        elif name in contents and bytes(contents[name]) == content:
            changes["unchanged"] += 1
        else:
            changes["updated"].append(name)
    changes["removed"] = sorted(set(sizes) - set(archive_files))
    return changes


def _cover_change(course: Course | None, cover: bytes | None) -> str:
    """added, replaced, removed, unchanged (the same image) or none (no cover before or after)."""
    digest = CourseCover.objects.filter(course=course).values_list("digest", flat=True).first() if course else None
    if cover is None:
        return "removed" if digest else "none"
    if digest is None:
        return "added"
    return "unchanged" if hashlib.sha256(cover).hexdigest() == digest else "replaced"


def archive_changes(*, parsed: dict, user=None, update: bool = False) -> dict:
    """What importing a read archive (archive_read) would change, as JSON-ready lists of titles,
    slugs, tags, names and codes: the course created or updated; its modules and lessons (matched
    by position), assignments (by slug), question banks (by tag, with their numbers of questions)
    and files (by name) created, updated or removed; its cover added, replaced, removed, unchanged
    or none; the competencies created, renamed or kept as they are; and, for an existing course,
    what becomes of its learners' work. Raises the errors the import would raise before writing
    anything (an existing code without `update`, a course the user may not edit, an assignment's
    kind changed, an answered assignment removed). Reads only; the import checks everything
    again, as the database may change in between."""
    course = Course.objects.filter(code=parsed["code"]).first()
    if course is not None and not update:
        raise _already_exists()
    if course is not None and user is not None and not permissions.is_course_editor(user=user, course=course):
        raise _not_course_editor()
    modules = {"created": [], "updated": [], "removed": [], "unchanged": 0}
    lessons = {"created": [], "updated": [], "removed": [], "unchanged": 0}
    assignments = {"created": [], "updated": [], "removed": [], "unchanged": 0}
    summary = {
        "code": parsed["code"],
        "title": parsed["title"],
        "exists": course is not None,
        "previous_title": course.title if course else "",
        "status": parsed["status"],
        "previous_status": course.status if course else "",
        "modules": modules,
        "lessons": lessons,
        "assignments": assignments,
        "banks": _bank_changes(course, parsed.get("banks", [])),
        "files": _file_changes(course, parsed.get("files", {})),
        "cover": _cover_change(course, parsed["cover"]),
    }

    competencies = {"created": [], "renamed": [], "kept": [], "unchanged": []}
    existing = {c.code: c for c in Competency.objects.filter(code__in=[c["code"] for c in parsed["competencies"]])}
    for c in parsed["competencies"]:
        competency = existing.get(c["code"])
        if competency is None:
            competencies["created"].append({"code": c["code"], "name": c["name"]})
        elif (competency.name, competency.description) == (c["name"], c["description"]):
            competencies["unchanged"].append({"code": c["code"], "name": c["name"]})
        else:
            allowed = user is None or permissions.can_change_competency(user=user, competency=competency)
            if update and allowed:
                competencies["renamed"].append({"code": c["code"], "name": c["name"], "was": competency.name})
            else:
                kept = {"code": c["code"], "name": competency.name, "archive_name": c["name"], "shared": not allowed}
                competencies["kept"].append(kept)
    summary["competencies"] = competencies

    old_modules = list(course.modules.order_by("position", "pk").prefetch_related("lessons")) if course else []
    removed_lessons = []
    for index, m in enumerate(parsed["modules"], start=1):
        old = old_modules[index - 1] if index <= len(old_modules) else None
        if old is None:
            modules["created"].append(m["title"])
        elif old.title != m["title"]:
            modules["updated"].append(m["title"])
        else:
            modules["unchanged"] += 1
        old_lessons = sorted(old.lessons.all(), key=lambda x: (x.position, x.pk)) if old else []
        for lindex, lesson in enumerate(m["lessons"], start=1):
            previous = old_lessons[lindex - 1] if lindex <= len(old_lessons) else None
            if previous is None:
                lessons["created"].append(lesson["title"])
            elif (previous.title, previous.body_markdown) != (lesson["title"], lesson["body"]):
                lessons["updated"].append(lesson["title"])
            else:
                lessons["unchanged"] += 1
        removed_lessons += old_lessons[len(m["lessons"]) :]
    for old in old_modules[len(parsed["modules"]) :]:
        modules["removed"].append(old.title)
        removed_lessons += sorted(old.lessons.all(), key=lambda x: (x.position, x.pk))
    lessons["removed"] = [lesson.title for lesson in removed_lessons]

    by_slug = {}
    if course is not None:
        query = course.assignments.select_related("current_version").prefetch_related("competencies")
        by_slug = {a.slug: a for a in query.annotate(answers=Count("submissions"))}
    positions = {index: module for index, module in enumerate(old_modules, start=1)}
    bank_questions = {b["tag"]: b["questions"] for b in parsed.get("banks", [])}
    new_versions = []
    for a in parsed["assignments"]:
        assignment = by_slug.pop(a["slug"], None)
        item = {"slug": a["slug"], "title": a["settings"]["title"]}
        if assignment is None:
            assignments["created"].append(item)
            continue
        if assignment.kind != a["kind"]:
            raise _kind_changed(a["entry"])
        changed, content = _assignment_changed(assignment, a, positions.get(a["module"]), bank_questions)
        if changed:
            assignments["updated"].append(item)
        else:
            assignments["unchanged"] += 1
        if content and assignment.answers:
            new_versions.append(item)
    answered = [a.slug for a in by_slug.values() if a.answers]
    if answered:
        raise _answered_would_be_removed(answered)
    removed = sorted(by_slug.values(), key=lambda a: a.slug)
    assignments["removed"] = [{"slug": a.slug, "title": a.title} for a in removed]

    if course is not None:
        summary["learners"] = {
            "enrollments": course.enrollments.count(),
            "submissions": Assignment.objects.filter(course=course).aggregate(n=Count("submissions"))["n"],
            "new_versions": new_versions,
            "progress_removed": LessonProgress.objects.filter(lesson__in=removed_lessons).count(),
        }
    return summary


# --- Import -------------------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    """The imported course, and the existing competencies the import referenced as they are
    instead of renaming them (each: code, the name kept, the name the archive gave, and whether
    it was kept because other courses use it rather than because the import was no update)."""

    course: Course
    kept: list[dict] = field(default_factory=list)


def course_import(*, data: bytes, user=None, update: bool = False) -> Course:
    """Import an archive (see archive_import) and return the course."""
    return archive_import(data=data, user=user, update=update).course


def archive_import(*, data: bytes, user=None, update: bool = False, progress: Progress | None = None) -> ImportOutcome:
    """Create (or with `update`, bring in line) a course from an archive. The archive is read and
    checked first (told to `progress`), then written in one transaction: it all lands or nothing
    does. `user` None is the command line (trusted); a user must be allowed to author, and to edit
    the course when updating it, and becomes one of its instructors. An import changes only what
    its course owns: a competency other courses use keeps its name and description unless the
    user is staff or teaches every course using it (ImportOutcome.kept lists those kept)."""
    if user is not None and not permissions.can_author(user=user):
        raise PermissionDenied(_("Only instructors and staff may import courses."))
    parsed = archive_read(data, progress=progress)
    outcome = _archive_apply(parsed=parsed, user=user, update=update)
    if progress:
        progress(parsed["steps"], parsed["steps"])
    return outcome


@transaction.atomic
def _archive_apply(*, parsed: dict, user, update: bool) -> ImportOutcome:
    course = Course.objects.select_for_update().filter(code=parsed["code"]).first()
    if course is not None and not update:
        raise _already_exists()
    if course is not None and user is not None and not permissions.is_course_editor(user=user, course=course):
        raise _not_course_editor()
    fields = {k: parsed[k] for k in ("title", "summary", "language", "status", "level", "workload_hours", "track")}
    if course is None:
        if parsed["code"] in services.RESERVED_COURSE_CODES:
            raise ArchiveError("course.yaml", _("this code is reserved; choose another"), field="code")
        course = Course.objects.create(code=parsed["code"], **fields)
    else:
        for key, value in fields.items():
            setattr(course, key, value)
        course.save()
    if user is not None:
        course.instructors.add(user)
    services.cover_store(course=course, data=parsed["cover"])
    outcome = ImportOutcome(course=course)

    competencies = {}
    for c in parsed["competencies"]:
        competency, created = Competency.objects.get_or_create(
            code=c["code"], defaults={"name": c["name"], "description": c["description"]}
        )
        if not created and (competency.name, competency.description) != (c["name"], c["description"]):
            allowed = user is None or permissions.can_change_competency(user=user, competency=competency)
            if update and allowed:
                competency.name, competency.description = c["name"], c["description"]
                competency.save(update_fields=["name", "description"])
            else:
                outcome.kept.append(
                    {"code": competency.code, "name": competency.name, "archive_name": c["name"], "shared": not allowed}
                )
        competencies[c["code"]] = competency
    wanted = {code for a in parsed["assignments"] for code in a["competencies"]} - set(competencies)
    competencies.update({c.code: c for c in Competency.objects.filter(code__in=wanted)})
    for a in parsed["assignments"]:
        for i, code in enumerate(a["competencies"]):
            if code not in competencies:  # deleted since the archive was read
                message = _("unknown competency %(code)s") % {"code": code}
                raise ArchiveError(a["entry"], message, field=f"competencies[{i}]")

    # Files first: the assignments' specs name them. Byte for byte; the archive's set replaces ours.
    existing_files = {f.name: f for f in course.files.all()}
    for name, content in parsed.get("files", {}).items():
        row = existing_files.pop(name, None) or CourseFile(course=course, name=name)
        if row.pk is None or bytes(row.content) != content:
            row.content, row.size = content, len(content)
            row.content_kind = sniff_kind(content[:2048], name)
            row.save()
    CourseFile.objects.filter(pk__in=[f.pk for f in existing_files.values()]).delete()

    # Modules and lessons, matched by position. Constraints on positions are deferred.
    existing_modules = list(course.modules.order_by("position", "pk"))
    modules = []
    for index, m in enumerate(parsed["modules"], start=1):
        if index <= len(existing_modules):
            module = existing_modules[index - 1]
            module.title, module.position = m["title"], index
            module.save(update_fields=["title", "position"])
        else:
            module = Module.objects.create(course=course, title=m["title"], position=index)
        existing_lessons = list(module.lessons.order_by("position", "pk"))
        for lindex, lesson_data in enumerate(m["lessons"], start=1):
            if lindex <= len(existing_lessons):
                lesson = existing_lessons[lindex - 1]
            else:
                lesson = Lesson(module=module)
            lesson.title, lesson.body_markdown, lesson.position = lesson_data["title"], lesson_data["body"], lindex
            services.lesson_save(lesson=lesson, body_html=lesson_data["html"])
        Lesson.objects.filter(pk__in=[x.pk for x in existing_lessons[len(m["lessons"]) :]]).delete()
        modules.append(module)

    # Banks before assignments: a quiz's draws freeze the archive's banks.
    kept_banks = set()
    for b in parsed.get("banks", []):
        bank, _created = QuestionBank.objects.update_or_create(
            course=course, competency=competencies[b["tag"]], defaults={"questions": b["questions"]}
        )
        kept_banks.add(bank.pk)
    course.question_banks.exclude(pk__in=kept_banks).delete()

    by_slug = {a.slug: a for a in course.assignments.select_related("current_version")}
    keep = set()
    for a in parsed["assignments"]:
        module = modules[a["module"] - 1]
        assignment = by_slug.get(a["slug"])
        if assignment is None:
            assignment = Assignment(course=course, slug=a["slug"], kind=a["kind"])
        elif assignment.kind != a["kind"]:
            raise _kind_changed(a["entry"])
        assignment.module, assignment.position = module, a["position"]
        for key, value in a["settings"].items():
            setattr(assignment, key, value)
        assignment.save()
        assignment.competencies.set([competencies[code] for code in a["competencies"]])
        try:
            services.assignment_spec_apply(assignment=assignment, spec=a["spec"], prompt_markdown=a["prompt"])
        except ApplicationError as exc:
            raise ArchiveError(a["entry"], exc.message, field=exc.field) from None
        keep.add(assignment.pk)
    stale = course.assignments.exclude(pk__in=keep)
    if stale.filter(submissions__isnull=False).exists():
        raise _answered_would_be_removed(stale.filter(submissions__isnull=False).values_list("slug", flat=True))
    stale.update(current_version=None)  # the version is PROTECTed while it is current
    stale.delete()
    for module in existing_modules[len(parsed["modules"]) :]:
        module.delete()
    return outcome


# --- Export -------------------------------------------------------------------------------------


def _number(value: Decimal | None):
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value.normalize())


def _fallback_slugs(assignments) -> dict[int, str]:
    """Slugs for assignments made before slugs existed: deterministic, unique in the course."""
    taken = {a.slug for a in assignments if a.slug}
    out = {}
    for a in sorted(assignments, key=lambda a: a.pk):
        if a.slug:
            out[a.pk] = a.slug
            continue
        base = slugify(a.title)[:56] or "assignment"
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        out[a.pk] = slug
    return out


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def course_export(*, course: Course) -> bytes:
    """The course as archive bytes; the same course always gives the same bytes."""
    modules = list(course.modules.order_by("position", "pk").prefetch_related("lessons"))
    assignments = list(course.assignments.select_related("current_version", "module").prefetch_related("competencies"))
    module_index = {m.pk: i for i, m in enumerate(modules, start=1)}
    slugs = _fallback_slugs(assignments)
    files: dict[str, bytes] = {}
    outline = []
    for i, module in enumerate(modules, start=1):
        folder = f"modules/{i:02d}-{slugify(module.title)[:40] or 'module'}"
        lessons = []
        for j, lesson in enumerate(sorted(module.lessons.all(), key=lambda x: (x.position, x.pk)), start=1):
            entry = f"{folder}/{j:02d}-{slugify(lesson.title)[:40] or 'lesson'}.md"
            files[entry] = lesson.body_markdown.encode("utf-8")
            lessons.append({"title": lesson.title, "file": entry})
        outline.append({"title": module.title, "lessons": lessons})
    used = {}
    for a in assignments:
        for c in a.competencies.all():
            used[c.code] = c
    for bank in course.question_banks.select_related("competency"):
        used[bank.competency.code] = bank.competency
        doc = {"format": BANK_FORMAT, "tag": bank.competency.code, "questions": bank.questions}
        files[f"banks/{bank.competency.code}.yaml"] = _dump(doc)
    for a in assignments:
        version = a.current_version
        spec = services.editable_spec(kind=a.kind, spec=version.spec if version else {})
        doc = {
            "format": ASSIGNMENT_FORMAT,
            "slug": slugs[a.pk],
            "title": a.title,
            "kind": a.kind,
            "module": module_index[a.module_id],
            "position": a.position,
            "points": _number(a.points),
            "pass_threshold": _number(a.pass_threshold),
            "required": a.is_required,
            "attempts_allowed": a.attempts_allowed,
            "due_at": _iso(a.due_at),
            "late_policy": {"penalty_per_day": _number(a.late_penalty_per_day), "cutoff_days": a.late_cutoff_days},
            "competencies": sorted(c.code for c in a.competencies.all()),
            "prompt": version.prompt_markdown if version else "",
            "spec": spec,
        }
        files[f"assignments/{slugs[a.pk]}.yaml"] = _dump(doc)
    head = {
        "format": COURSE_FORMAT,
        "code": course.code,
        "title": course.title,
        "summary": course.summary,
        "language": course.language,
        "status": str(course.status),
        "level": str(course.level),  # a fresh instance holds the Level member, not its value
    }
    if course.workload_hours is not None:
        head["workload_hours"] = course.workload_hours
    if course.track:
        head["track"] = str(course.track)
    cover = CourseCover.objects.filter(course=course).first()
    if cover is not None:
        data = bytes(cover.data)
        head["cover"] = COVER_ENTRIES[sniff_kind(data[:2048])]
        files[head["cover"]] = data
    for row in course.files.all():
        files[f"files/{row.name}"] = bytes(row.content)
    files["course.yaml"] = _dump(
        {
            **head,
            "competencies": [
                {"code": c.code, "name": c.name, "description": c.description}
                for c in sorted(used.values(), key=lambda c: c.code)
            ],
            "modules": outline,
        }
    )
    return zip_files(files)


def zip_files(files: dict[str, bytes]) -> bytes:
    """A deterministic zip: sorted entries, fixed date, permissions and compression."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name], compresslevel=6)
    return buffer.getvalue()


def zip_directory(path) -> bytes:
    """Zip a course folder laid out as the archive (how the demo content is stored)."""
    root = Path(path)
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    return zip_files(files)
