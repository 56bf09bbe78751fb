"""Demo content: one learning path per track. Loaded by `manage.py seed_demo`."""

from courses import services
from courses.models import Assignment, Course, LearningPath, Module, PathCourse, PublicationStatus

PUBLISHED = PublicationStatus.PUBLISHED

DEMO_PATHS = [
    {
        "code": "data-science-sante",
        "title": "Science des données de santé",
        "track": "data-science",
        "summary": "Analyser des données de patients avec Python, pandas et des méthodes reproductibles.",
        "courses": [
            {
                "code": "ds-101",
                "title": "Introduction aux données de santé",
                "language": "fr",
                "summary": "Types de données cliniques, qualité et premières analyses.",
                "lesson": (
                    "Données de santé",
                    "Les données de santé comprennent les dossiers patients, les résultats de "
                    "laboratoire et les données administratives.\n\n```python\nimport pandas as pd\n"
                    "df = pd.read_csv('patients.csv')\ndf['age'].describe()\n```\n",
                ),
                "quiz": {
                    "title": "Quiz : types de données",
                    "questions": [
                        {
                            "id": "q1",
                            "type": "single",
                            "prompt": "Quelle fonction pandas résume une colonne numérique ?",
                            "choices": [
                                {"id": "a", "text": "describe()"},
                                {"id": "b", "text": "plot()"},
                                {"id": "c", "text": "drop()"},
                            ],
                            "answer": ["a"],
                            "feedback": {"correct": "Exact.", "incorrect": "describe() donne moyenne, quartiles..."},
                        },
                        {
                            "id": "q2",
                            "type": "multiple",
                            "prompt": "Lesquelles sont des données de santé ?",
                            "choices": [
                                {"id": "a", "text": "Un résultat d'analyse sanguine"},
                                {"id": "b", "text": "Un diagnostic"},
                                {"id": "c", "text": "La météo du jour"},
                            ],
                            "answer": ["a", "b"],
                            "feedback": {"correct": "Exact.", "incorrect": "La météo n'est pas une donnée de santé."},
                        },
                    ],
                },
            }
        ],
    },
]


def load_demo_content() -> list[Course]:
    """Create the demo paths and courses that do not exist yet. Returns every demo course."""
    courses = []
    for p in DEMO_PATHS:
        path, _ = LearningPath.objects.get_or_create(
            code=p["code"],
            defaults={"title": p["title"], "track": p["track"], "summary": p["summary"], "status": PUBLISHED},
        )
        for position, c in enumerate(p["courses"], start=1):
            course = Course.objects.filter(code=c["code"]).first()
            if course is None:
                course = Course.objects.create(
                    code=c["code"], title=c["title"], summary=c["summary"], language=c["language"], status=PUBLISHED
                )
                module = Module.objects.create(course=course, title="Module 1", position=1)
                title, body = c["lesson"]
                services.lesson_save(
                    lesson=module.lessons.model(module=module, title=title, body_markdown=body, position=1)
                )
                quiz = c["quiz"]
                assignment = Assignment.objects.create(
                    course=course, module=module, title=quiz["title"], kind=Assignment.Kind.QUIZ, points=10
                )
                services.assignment_version_create(assignment=assignment, spec={"questions": quiz["questions"]})
            PathCourse.objects.get_or_create(path=path, course=course, defaults={"position": position})
            courses.append(course)
    return courses
