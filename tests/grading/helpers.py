"""Assignments of every kind for grading tests, published through the real course service."""

from courses import services as course_services
from courses.models import Assignment
from tests.factories import ModuleFactory, UserFactory, enroll

CODE_SPEC = {
    "entrypoint": "solve",
    "starter_code": "def solve(a, b):\n    ...\n",
    "reference_solution": "def solve(a, b):\n    return a + b\n",
    "public_tests": [{"id": "t1", "args": [1, 2]}],
    "hidden_tests": [{"id": "h1", "args": [40, 2]}, {"id": "h2", "args": [0.1, 0.2]}],
    "tolerance": {"rel": 1e-6, "abs": 1e-9},
}

PANDAS_SPEC = {
    "entrypoint": "solve",
    "starter_code": "def solve(df):\n    ...\n",
    "reference_solution": (
        "import pandas as pd\n"
        "def solve(df):\n"
        "    df = pd.DataFrame(df['__dataframe__']['data'], columns=df['__dataframe__']['columns'])"
        " if isinstance(df, dict) else df\n"
        "    out = df.groupby('ward', as_index=False)['stay'].mean()\n"
        "    return out\n"
    ),
    "public_tests": [
        {"id": "t1", "args": [{"__dataframe__": {"columns": ["ward", "stay"], "data": [["A", 1], ["A", 2], ["B", 5]]}}]}
    ],
    "hidden_tests": [
        {"id": "h1", "args": [{"__dataframe__": {"columns": ["ward", "stay"], "data": [["C", 1], ["C", 4], ["D", 3]]}}]}
    ],
    "tolerance": {"rel": 1e-6, "abs": 1e-9},
}

FLAG_SPEC = {"flag": "FLAG{s3cr3t}", "case_sensitive": True, "max_wrong_per_hour": 3}

ESSAY_SPEC = {
    "rubric": {
        "criteria": [
            {
                "id": "c1",
                "title": "Argument",
                "description": "Is the argument sound?",
                "levels": [
                    {"id": "l0", "title": "Weak", "points": 0},
                    {"id": "l1", "title": "Fair", "points": 2},
                    {"id": "l2", "title": "Strong", "points": 4},
                ],
            },
            {
                "id": "c2",
                "title": "Sources",
                "description": "",
                "levels": [{"id": "l0", "title": "None", "points": 0}, {"id": "l1", "title": "Cited", "points": 1}],
            },
        ]
    },
    "min_words": 3,
    "max_words": 200,
}


def make_assignment(kind: str, spec: dict, *, course=None, **fields) -> Assignment:
    module = ModuleFactory(**({"course": course} if course else {}))
    assignment = Assignment.objects.create(
        course=module.course, module=module, title=fields.pop("title", kind.title()), kind=kind, **fields
    )
    course_services.assignment_version_create(assignment=assignment, spec=spec)
    assignment.refresh_from_db()
    return assignment


def learner_for(assignment: Assignment):
    user = UserFactory()
    enroll(user, assignment.course)
    return user
