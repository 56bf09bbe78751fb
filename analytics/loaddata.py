"""Synthetic data for scale: organizations, learners with plausible names, paths of courses with
assignments of every kind, enrollments, and submissions whose scores follow each learner's
ability (a two-parameter item-response model for quiz questions). Rows go in through COPY on
PostgreSQL (psycopg 3) and executemany elsewhere; 100k learners and 1M submissions take minutes.

Everything it creates is named with a prefix (default "load"), so it never touches other data
and `loaddata_exists` can tell whether a data set is already there."""

import json
import math
import random
from collections.abc import Iterable, Iterator
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.db.models import Count, F, Max, OuterRef, Subquery
from django.utils import timezone

from accounts.models import Organization
from courses.models import (
    Assignment,
    AssignmentVersion,
    Competency,
    Course,
    Enrollment,
    LearningPath,
    Module,
    PathCourse,
)
from grading.models import Submission
from grading.selectors import passed_q, score_passes
from grading.services import latest_graded_backfill

FIRST_NAMES = (
    "Youssef Fatima Mohamed Khadija Amine Salma Omar Imane Hamza Meryem Mehdi Aya Ayoub Hajar Anas Zineb Reda "
    "Sara Karim Nadia Yassine Houda Ilyas Loubna Adam Rania Othmane Ghita Ismail Asmae Nabil Kenza Soufiane Chaimae "
    "Hicham Leila Tarik Siham Rachid Malika Camille Lucas Emma Hugo Chloe Louis Ines Jules Lina Paul"
).split()
LAST_NAMES = (
    "Alaoui Benali Berrada Chraibi ElFassi Idrissi Bennani Tazi Lahlou Amrani Sefrioui Kettani Ouazzani Filali "
    "Benjelloun Lamrani Ziani Haddad Naciri Belhaj Mansouri Skalli Cherkaoui Tahiri Sabri Rami Bakkali Zouiten "
    "Hajji Moussaoui Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau"
).split()
TRACKS = [
    ("data-science", "Data science for health", ["Python for health data", "Statistics", "Machine learning"]),
    ("cybersecurity", "Hospital cybersecurity", ["Security basics", "Network defence", "Incident response"]),
    ("health-law", "Health law", ["Patient rights", "Medical liability", "Health data law"]),
    ("data-governance", "Data governance", ["Data quality", "Privacy by design", "Data stewardship"]),
]
KIND_CYCLE = ["quiz", "code", "quiz", "flag", "quiz", "essay", "quiz", "code", "quiz", "flag"]
SOURCES = [("sync", 50), ("self", 30), ("oneroster", 15), ("staff", 5)]
FLAGSHIP_LEARNERS = 5000
FLAGSHIP_ASSIGNMENTS = 20
OTHER_ASSIGNMENTS = 8


def flagship_code(prefix: str) -> str:
    return f"{prefix}-data-science-1"


def loaddata_exists(prefix: str = "load") -> bool:
    return Course.objects.filter(code=flagship_code(prefix)).exists()


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _weighted(rng: random.Random, pairs):
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


class _Writer:
    """Insert many rows into one model's table: COPY on PostgreSQL, executemany elsewhere. The
    columns not given get their model default, so new fields with defaults don't break it."""

    def __init__(self, model, columns: list[str]):
        self.model = model
        now = timezone.now()
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        by_name = {f.attname: f for f in fields}
        self.columns = list(columns)
        self.extra = []
        for f in fields:
            if f.attname in columns:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            else:
                value = f.get_default()  # "" for text fields without a default
                if isinstance(f, models.JSONField):
                    value = json.dumps(value)
            if value is None and not f.null:
                raise RuntimeError(f"{model.__name__}.{f.name} has no default: generate_load_data must set it")
            self.columns.append(f.attname)
            self.extra.append(value)
        self.db_columns = [by_name[c].column for c in self.columns]

    def write(self, rows: Iterable[tuple]) -> int:
        table = connection.ops.quote_name(self.model._meta.db_table)
        cols = ", ".join(connection.ops.quote_name(c) for c in self.db_columns)
        extra = tuple(self.extra)
        n = 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # noqa: S608
                    for row in rows:
                        copy.write_row(row + extra)
                        n += 1
            else:
                sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(self.db_columns))})"  # noqa: S608
                batch = []
                for row in rows:
                    batch.append(row + extra)
                    n += 1
                    if len(batch) >= 5000:
                        cursor.executemany(sql, batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
        return n


def _quiz_spec(rng: random.Random, n_questions: int = 5) -> dict:
    questions = []
    for q in range(n_questions):
        multiple = rng.random() < 0.2
        choices = [{"id": c, "text": f"Option {c.upper()}"} for c in "abcd"]
        answer = sorted(rng.sample("abcd", 2)) if multiple else [rng.choice("abcd")]
        questions.append(
            {
                "id": f"q{q + 1}",
                "type": "multiple" if multiple else "single",
                "prompt": f"Question {q + 1}",
                "choices": choices,
                "answer": answer,
                # Generator-only item parameters (difficulty b, discrimination a); graders ignore them.
                "_b": round(rng.uniform(-1.5, 1.5), 2),
                "_a": round(rng.choice([rng.uniform(0.6, 2.0)] * 4 + [rng.uniform(-0.8, -0.2)]), 2),
            }
        )
    return {"questions": questions}


def _spec_for(kind: str, rng: random.Random) -> dict:
    if kind == "quiz":
        return _quiz_spec(rng)
    if kind == "code":
        return {"function": "solve", "tests": [{"input": [i], "hidden": i > 2} for i in range(5)]}
    if kind == "flag":
        return {"flag_sha256": "0" * 64}
    return {"rubric": [{"criterion": "Argument", "points": 50}, {"criterion": "Sources", "points": 50}]}


@transaction.atomic
def _structure(*, prefix: str, rng: random.Random, now) -> dict:
    orgs = [
        Organization.objects.create(slug=f"{prefix}-univ-{i}", name=f"Université {name}")
        for i, name in enumerate(["Mohammed V", "Hassan II", "Cadi Ayyad", "Ibn Tofail", "Abdelmalek Essaadi"])
    ] + [
        Organization.objects.create(slug=f"{prefix}-chu-{i}", name=f"CHU {name}", kind="hospital")
        for i, name in enumerate(["Rabat", "Casablanca", "Marrakech"])
    ]
    comps = [Competency.objects.create(code=f"{prefix}-comp-{i}", name=f"Competency {i + 1}") for i in range(12)]
    courses, course_assignments = [], {}
    start = now - timedelta(days=180)
    for t, (track, path_title, titles) in enumerate(TRACKS):
        path = LearningPath.objects.create(code=f"{prefix}-{track}", title=path_title, track=track, status="published")
        path.competencies.set(comps[t * 3 : t * 3 + 3])
        for c, title in enumerate(titles):
            course = Course.objects.create(
                code=f"{prefix}-{track}-{c + 1}", title=title, language="fr", status="published"
            )
            PathCourse.objects.create(path=path, course=course, position=c + 1)
            n_assign = FLAGSHIP_ASSIGNMENTS if (t, c) == (0, 0) else OTHER_ASSIGNMENTS
            modules = [Module.objects.create(course=course, title=f"Module {m + 1}", position=m + 1) for m in range(4)]
            assignments = []
            for i in range(n_assign):
                kind = KIND_CYCLE[i % len(KIND_CYCLE)]
                a = Assignment.objects.create(
                    course=course,
                    module=modules[i * 4 // n_assign],
                    title=f"{kind.title()} {i + 1}",
                    kind=kind,
                    position=i + 1,
                    points=Decimal(100 if kind != "flag" else 20),
                    is_required=i % 5 != 4,
                    due_at=start + timedelta(days=7 * (i + 1)),
                    attempts_allowed=3,
                )
                a.competencies.set([comps[t * 3 + (i % 3)]])
                version = AssignmentVersion.objects.create(assignment=a, number=1, spec=_spec_for(kind, rng))
                a.current_version = version
                a.save(update_fields=["current_version"])
                a.version = version
                assignments.append(a)
            courses.append(course)
            course_assignments[course.pk] = assignments
    return {"orgs": orgs, "courses": courses, "assignments": course_assignments}


def _answer_and_score(kind: str, spec: dict, ability: float, rng: random.Random) -> tuple[dict, float, str]:
    """(answer, share of the points, status) for one attempt."""
    if kind == "quiz":
        answer, right = {}, 0
        for q in spec["questions"]:
            if rng.random() < _sigmoid(q["_a"] * (ability - q["_b"])):
                answer[q["id"]] = q["answer"]
                right += 1
            else:
                wrong = [c["id"] for c in q["choices"] if c["id"] not in q["answer"]]
                answer[q["id"]] = [rng.choice(wrong)]
        return answer, right / len(spec["questions"]), "graded"
    if kind == "code":
        if rng.random() < 0.01:
            return {"code": "def solve(x):\n    while True: pass\n"}, 0.0, "failed"
        passed = sum(rng.random() < _sigmoid(ability + 0.3) for _ in range(5))
        return {"code": "def solve(x):\n    return x * 2\n"}, passed / 5, "graded"
    if kind == "flag":
        ok = rng.random() < _sigmoid(ability + 0.5)
        return {"flag": "FLAG{found}" if ok else "FLAG{guess}"}, 1.0 if ok else 0.0, "graded"
    text = {"text": "Le secret médical protège le patient. " * rng.randint(5, 40)}
    if rng.random() < 0.4:
        return text, 0.0, "needs_review"
    return text, min(1.0, max(0.0, rng.gauss(0.7 + 0.1 * ability, 0.12))), "graded"


@transaction.atomic
def generate(*, learners: int, submissions: int, prefix: str = "load", seed: int = 8, log=print) -> dict:
    """Fill the database, all or nothing. Returns counts. Raises ValueError when the prefix is taken."""
    if loaddata_exists(prefix):
        raise ValueError(f"a data set with prefix {prefix!r} is already loaded")
    rng = random.Random(seed)
    now = timezone.now()
    s = _structure(prefix=prefix, rng=rng, now=now)
    orgs, courses, by_course = s["orgs"], s["courses"], s["assignments"]
    log(f"structure: {len(courses)} courses, {sum(len(v) for v in by_course.values())} assignments")

    user_model = get_user_model()
    with transaction.atomic():
        writer = _Writer(
            user_model, ["password", "email", "full_name", "organization_id", "external_id", "date_joined"]
        )

        def user_rows() -> Iterator[tuple]:
            for i in range(learners):
                org = orgs[i % len(orgs)] if rng.random() < 0.9 else None
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                joined = now - timedelta(days=rng.uniform(0, 365))
                yield (
                    "!",  # unusable password: synthetic learners never log in
                    f"{prefix}.learner{i}@learners.example",
                    name,
                    org.pk if org else None,
                    f"S{i:07d}" if org else None,
                    joined,
                )

        writer.write(user_rows())
    user_ids = list(
        user_model.objects.filter(email__startswith=f"{prefix}.learner").order_by("pk").values_list("pk", flat=True)
    )
    log(f"learners: {len(user_ids)}")

    # Enrollments: the first 5,000 learners take the flagship course; everyone takes 1-3 courses.
    flagship = courses[0]
    plan: list[tuple[int, int, float]] = []  # (user id, course id, ability)
    for i, uid in enumerate(user_ids):
        ability = rng.gauss(0, 1)
        chosen = {flagship.pk} if i < FLAGSHIP_LEARNERS else set()
        others = [c.pk for c in courses[1:]]
        while len(chosen) < rng.choice([1, 1, 2, 2, 3]):
            chosen.add(rng.choice(others))
        for cid in sorted(chosen):
            plan.append((uid, cid, ability))
    enrolled_at = {}
    with transaction.atomic():
        writer = _Writer(Enrollment, ["user_id", "course_id", "status", "source", "created_at"])

        def enrollment_rows():
            for uid, cid, _ability in plan:
                status = _weighted(rng, [("active", 90), ("dropped", 8), ("completed-elsewhere", 2)])
                created = now - timedelta(days=rng.uniform(1, 200))
                enrolled_at[(uid, cid)] = created
                yield (uid, cid, status, _weighted(rng, SOURCES), created)

        n_enrollments = writer.write(enrollment_rows())
    log(f"enrollments: {n_enrollments}")

    # Submissions: a budget per enrollment (flagship learners work more), spent in course order.
    weights = [3.0 if cid == flagship.pk else 1.0 for _u, cid, _a in plan]
    per_weight = submissions / sum(weights)
    with transaction.atomic():
        writer = _Writer(
            Submission,
            [
                "user_id", "assignment_id", "version_id", "attempt", "answer", "status", "score", "max_score",
                "is_late", "grading_attempts", "submitted_at", "started_at", "graded_at", "updated_at",
            ],
        )  # fmt: skip
        remaining = [submissions]

        def submission_rows():
            for (uid, cid, ability), w in zip(plan, weights, strict=True):
                if remaining[0] <= 0:
                    return
                budget = min(remaining[0], int(rng.expovariate(1 / (1.6 * per_weight * w)) + 0.5))
                t = enrolled_at[(uid, cid)]
                for a in by_course[cid]:
                    if budget <= 0:
                        break
                    for attempt in range(1, 4):
                        if budget <= 0:
                            break
                        t = t + timedelta(hours=rng.uniform(2, 24 * 6))
                        if t > now:
                            budget = 0
                            break
                        answer, share, status = _answer_and_score(a.kind, a.version.spec, ability, rng)
                        if status == "graded" and rng.random() < 0.002:
                            status = "queued"
                        graded = status in ("graded",)
                        score = (a.points * Decimal(str(round(share, 4)))).quantize(Decimal("0.01")) if graded else None
                        yield (
                            uid, a.pk, a.version.pk, attempt, json.dumps(answer), status, score, a.points,
                            bool(a.due_at and t > a.due_at), 1 if status != "queued" else 0, t,
                            t if status != "queued" else None, t + timedelta(seconds=2) if graded else None, t,
                        )  # fmt: skip
                        budget -= 1
                        remaining[0] -= 1
                        threshold = Decimal(str(a.pass_threshold))  # a float on the rows built here
                        passed = score_passes(score=score, max_score=a.points, pass_threshold=threshold)
                        if passed or rng.random() < 0.5:
                            break

        n_submissions = writer.write(submission_rows())
        # Written by COPY, not graded through grade_record: mark each learner's latest graded
        # attempt as a grade would have.
        latest_graded_backfill()
    log(f"submissions: {n_submissions}")

    # Completion: every required assignment passed (grading's rule, `passed_q`); completed when the
    # last one was. The ORM writes the SELECT of who completed when; one UPDATE ... FROM applies it.
    course_ids = [c.pk for c in courses]
    required = (
        Assignment.objects.filter(course_id=OuterRef("assignment__course_id"), is_required=True)
        .order_by()
        .values("course_id")
        .annotate(n=Count("*"))
        .values("n")[:1]
    )
    done = (
        Submission.objects.filter(passed_q(), assignment__is_required=True, assignment__course_id__in=course_ids)
        .order_by()
        .values("user_id", course=F("assignment__course_id"))
        .annotate(t=Max("graded_at"), n=Count("assignment_id", distinct=True))
        .filter(n=Subquery(required))
        .values_list("user_id", "course", "t")
    )
    select, params = done.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE courses_enrollment SET completed_at = done.t
            FROM ({select}) AS done
            WHERE courses_enrollment.user_id = done.user_id AND courses_enrollment.course_id = done.course
              AND courses_enrollment.status = 'active'
            """,  # noqa: S608 - the ORM's SQL, its values as parameters
            params,
        )
        completed = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE accounts_user, courses_enrollment, grading_submission")
    log(f"completed enrollments: {completed}")
    return {
        "learners": len(user_ids),
        "enrollments": n_enrollments,
        "submissions": n_submissions,
        "completed": completed,
        "flagship": flagship.code,
    }
