"""How much a course holds: modules, lessons, words of prose, assignments by kind, quiz and bank
questions. Counted the same way on the platform's database (`manage.py content_stats`) and on a
course folder (courses.demo.checks)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FENCE = re.compile(r"^\s*(```+|~~~+)")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")


@dataclass
class CourseCounts:
    code: str
    language: str
    track: str
    level: str
    modules: int = 0
    lessons: int = 0
    words: int = 0
    assignments: dict[str, int] = field(default_factory=dict)
    quiz_questions: int = 0  # the quizzes' fixed questions
    bank_questions: int = 0
    claims: int = 0  # code blocks whose claimed output was checked (folders only)

    @property
    def questions(self) -> int:
        return self.quiz_questions + self.bank_questions


def prose(markdown: str) -> str:
    """A lesson's Markdown without its fenced code blocks."""
    out, fence = [], None
    for line in markdown.split("\n"):
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            out.append(line)
    return "\n".join(out)


def prose_words(markdown: str) -> int:
    """Words of a lesson's prose: fenced code blocks and link targets left out."""
    return len(_WORD.findall(_LINK_TARGET.sub("]", prose(markdown))))


def quiz_question_count(spec: dict) -> int:
    """The questions a learner answers in one attempt: the fixed ones and the drawn ones."""
    drawn = sum(d.get("count", 0) for d in spec.get("draws") or [] if isinstance(d, dict))
    return len(spec.get("questions") or []) + drawn


def database_counts() -> list[CourseCounts]:
    """Every course on the platform, counted (a handful of queries, whatever the number of
    courses)."""
    from .models import Assignment, Course, Lesson, Module, PathCourse, QuestionBank

    on_path = dict(PathCourse.objects.order_by("-path__code").values_list("course_id", "path__track"))
    counts = {  # a course with no track of its own is counted under its path's (as the catalogue does)
        c.pk: CourseCounts(code=c.code, language=c.language, track=c.track or on_path.get(c.pk, ""), level=c.level)
        for c in Course.objects.order_by("code")
    }
    for course_id in Module.objects.values_list("course_id", flat=True):
        counts[course_id].modules += 1
    for course_id, body in Lesson.objects.values_list("module__course_id", "body_markdown"):
        counts[course_id].lessons += 1
        counts[course_id].words += prose_words(body)
    for course_id, kind, spec in Assignment.objects.values_list("course_id", "kind", "current_version__spec"):
        c = counts[course_id]
        c.assignments[kind] = c.assignments.get(kind, 0) + 1
        if kind == "quiz" and isinstance(spec, dict):
            c.quiz_questions += len(spec.get("questions") or [])
    for course_id, questions in QuestionBank.objects.values_list("course_id", "questions"):
        counts[course_id].bank_questions += len(questions or [])
    return list(counts.values())


def totals(rows: list[CourseCounts], key) -> dict[str, dict[str, int]]:
    """Sums by `key(row)`: courses, modules, lessons, words, assignments, questions."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        t = out.setdefault(
            key(r), {"courses": 0, "modules": 0, "lessons": 0, "words": 0, "assignments": 0, "questions": 0}
        )
        t["courses"] += 1
        t["modules"] += r.modules
        t["lessons"] += r.lessons
        t["words"] += r.words
        t["assignments"] += sum(r.assignments.values())
        t["questions"] += r.questions
    return dict(sorted(out.items()))
