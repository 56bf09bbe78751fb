import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from analytics import selectors
from analytics.permissions import LearnerScope
from courses.models import Competency, Course, Enrollment, QuestionBank
from grading import attempts
from grading import services as grading_services
from grading.models import Submission
from tests.factories import QUIZ_SPEC, PathFactory, add_to_path
from tests.twofactor import login_with_2fa

from .helpers import course_with_instructor, learner, make_assignment, submit

pytestmark = pytest.mark.django_db
ALL = LearnerScope(all_learners=True)
COURSE_STAFF = LearnerScope(all_learners=True, can_override=True, can_see_answer_keys=True)
RIGHT = {"q1": ["a"], "q2": ["a", "c"]}


def test_assignment_stats_mean_median_pass_rate_attempts_and_histogram():
    course, _t = course_with_instructor()
    a = make_assignment(course, points=50)  # pass threshold 0.5
    for scores in ([10], [5, 30], [45], [50]):
        u = learner(course)
        for s in scores:
            submit(u, a, score=s)
    (s,) = selectors.assignment_stats(course=course, scope=ALL)
    assert (s.submissions, s.learners, s.attempts_per_learner) == (5, 4, 1.25)
    assert s.mean == 67.5 and s.median == 75.0  # latest attempts: 20%, 60%, 90%, 100%
    assert s.pass_rate == 75.0
    assert s.histogram[2] == 1 and s.histogram[6] == 1 and s.histogram[9] == 2


def test_item_analysis_flags_a_question_with_negative_discrimination(client):
    course, teacher = course_with_instructor()
    quiz = make_assignment(course, kind="quiz", points=100)
    # Strong learners miss q1 and get q2; weak learners get q1 and miss q2.
    for _ in range(4):
        submit(learner(course), quiz, score=50, answer={"q1": ["b"], "q2": ["a", "c"]})
        submit(learner(course), quiz, score=10, answer={"q1": ["a"], "q2": ["b"]})
    for _ in range(2):
        submit(learner(course), quiz, score=0, answer={"q1": ["b"], "q2": ["b"]})
    questions = {q.id: q for q in selectors.item_analysis(assignment=quiz, scope=COURSE_STAFF)}
    # 10 learners: upper 27% = 3 (all score 50), lower 27% = 3 (two 0s and one 10).
    assert questions["q1"].difficulty == 0.4 and questions["q1"].discrimination == -0.333
    assert questions["q1"].is_flagged
    assert questions["q2"].discrimination == 1.0 and not questions["q2"].is_flagged
    assert ("b", "5", 6, False) in questions["q1"].distribution and ("a", "4", 4, True) in questions["q1"].distribution
    # A scope that may not see answer keys gets the same statistics, and no key.
    keyless = {q.id: q for q in selectors.item_analysis(assignment=quiz, scope=ALL)}
    assert keyless["q1"].difficulty == 0.4 and keyless["q1"].discrimination == -0.333
    assert ("a", "4", 4, False) in keyless["q1"].distribution
    assert not any(is_key for q in keyless.values() for *_rest, is_key in q.distribution)
    login_with_2fa(client, teacher)
    page = client.get(reverse("analytics:assignment", args=[course.code, quiz.pk])).content.decode()
    assert "negative discrimination" in page and 'role="alert"' in page


def _bank_question(i: int) -> dict:
    choices = [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]
    return {"id": f"b{i}", "type": "single", "prompt": f"Bank question {i}", "choices": choices,
            "answer": ["a" if i % 2 == 0 else "b"]}  # fmt: skip


def test_item_analysis_counts_each_bank_question_over_the_graded_attempts_that_drew_it(client):
    course, teacher = course_with_instructor()
    QuestionBank.objects.create(course=course, competency=Competency.objects.create(code="triage", name="Triage"),
                                questions=[_bank_question(i) for i in range(3)])  # fmt: skip
    # Two drawn out of three: any two attempts share a question.
    spec = {"questions": [QUIZ_SPEC["questions"][0]], "draws": [{"tag": "triage", "count": 2, "points": 2}]}
    quiz = make_assignment(course, kind="quiz", points=5, spec=spec)
    drew, right, picks = Counter(), Counter(), Counter()
    for n in range(6):
        user = learner(course)
        questions = attempts.attempt_spec(kind="quiz", version=quiz.current_version, user_id=user.pk, attempt=1)
        answer = {}
        for q in questions["questions"]:
            good = q["answer"][0]
            answer[q["id"]] = [good if q["id"] == "q1" or n % 2 == 0 else ("b" if good == "a" else "a")]
            if q["id"] != "q1":
                drew[q["id"]] += 1
                right[q["id"]] += n % 2 == 0
                picks[q["id"], answer[q["id"]][0]] += 1
        sub = grading_services.submission_create(user=user, assignment=quiz, answer=answer)
        grading_services.submission_grade(submission_id=sub.pk)
        sub.refresh_from_db()
        assert sub.status == "graded" and len(sub.feedback["questions"]) == 3
    assert sum(drew.values()) == 12 and len(drew) == 3

    questions = selectors.item_analysis(assignment=quiz, scope=COURSE_STAFF)
    assert [q.id for q in questions] == ["q1", "triage:b0", "triage:b1", "triage:b2"]
    assert (questions[0].tag, questions[0].answered, questions[0].correct, questions[0].difficulty) == ("", 6, 6, 1.0)
    for q in questions[1:]:
        assert q.tag == "triage" and q.prompt == f"Bank question {q.id[-1]}"
        assert (q.answered, q.correct) == (drew[q.id], right[q.id])
        assert q.difficulty == round(right[q.id] / drew[q.id], 3)
        key = "a" if int(q.id[-1]) % 2 == 0 else "b"
        assert q.distribution == [(c, c.upper(), picks[q.id, c], c == key) for c in ("a", "b")]
    # The upper 27% (two learners who got every drawn question right) against the lower two (none).
    measured = [q.discrimination for q in questions[1:] if q.discrimination is not None]
    assert measured and set(measured) == {1.0}

    login_with_2fa(client, teacher)
    page = client.get(reverse("analytics:assignment", args=[course.code, quiz.pk])).content.decode()
    assert page.count("drawn from the bank triage") == 3 and "triage:b1: Bank question 1" in page
    assert "counts the attempts that drew it" in page


def test_course_funnel_median_time_and_competency_progress():
    course, _t = course_with_instructor()
    a = make_assignment(course)
    comp = Competency.objects.create(code="stats", name="Statistics")
    a.competencies.add(comp)
    now = timezone.now()
    done = [learner(course, enrolled_days_ago=d) for d in (10, 20)]
    for u, days in zip(done, (4, 8), strict=True):
        submit(u, a, score=90)
        e = Enrollment.objects.get(user=u, course=course)
        Enrollment.objects.filter(pk=e.pk).update(completed_at=e.created_at + timedelta(days=days))
    started = learner(course)
    submit(started, a, score=10)
    learner(course)
    funnel = selectors.course_funnel(course=course, scope=ALL)
    assert (funnel.enrolled, funnel.started, funnel.completed) == (4, 3, 2)
    assert funnel.median_days_to_complete == 6.0
    assert funnel.weeks[-1][1:] == (4, 2) and funnel.weeks[0][0] <= now.date().isoformat()
    assert selectors.competency_progress(course=course, scope=ALL) == [("Statistics", 50.0, 1)]


def test_path_analytics_counts_each_course_and_whole_path_completions():
    path = PathFactory()
    c1, _t = course_with_instructor()
    c2, _t = course_with_instructor()
    add_to_path(path, c1, 1)
    add_to_path(path, c2, 2)
    u = learner(c1, enrolled_days_ago=10)
    Enrollment.objects.create(user=u, course=c2)
    Enrollment.objects.filter(user=u).update(completed_at=timezone.now())
    learner(c1)
    data = selectors.path_analytics(path=path, scope=ALL)
    assert [(s.enrolled, s.completed) for s in data["steps"]] == [(2, 1), (1, 1)]
    assert data["completed_path"] == 1 and data["median_days_to_complete"] == 10.0


def test_pages_render_svg_charts_with_data_tables_and_no_inline_style_or_script(client):
    course, teacher = course_with_instructor()
    a = make_assignment(course)
    for i in range(5):
        submit(learner(course), a, score=i * 20)
    path = PathFactory()
    add_to_path(path, course, 1)
    login_with_2fa(client, teacher)
    for url in (
        reverse("analytics:course", args=[course.code]),
        reverse("analytics:assignment", args=[course.code, a.pk]),
        reverse("analytics:path", args=[path.code]),
        reverse("analytics:gradebook", args=[course.code]),
        reverse("analytics:index"),
    ):
        body = client.get(url).content.decode()
        assert " style=" not in body and not re.search(r"<script(?![^>]*\bsrc=)", body), url
        assert not re.search(r"\son[a-z]+=", body), url
        if "analytics/" in url:
            assert "<svg" in body and "<table" in body, url


def test_at_risk_learners_are_listed_for_the_instructor(client):
    course, teacher = course_with_instructor()
    a = make_assignment(course, is_required=True)
    failing = learner(course, full_name="Failing Learner")
    submit(failing, a, score=5)
    fine = learner(course, full_name="Fine Learner")
    submit(fine, a, score=95)
    login_with_2fa(client, teacher)
    page = client.get(reverse("analytics:course", args=[course.code])).content.decode()
    section = page[page.index('id="at-risk"') :]
    assert "Failing Learner" in section and "Fine Learner" not in section


def test_generate_load_data_fills_every_kind_and_refuses_a_second_run():
    call_command("generate_load_data", learners=40, submissions=400, prefix="t")
    assert Course.objects.filter(code__startswith="t-").count() == 12
    kinds = set(Submission.objects.values_list("assignment__kind", flat=True).distinct())
    assert kinds == {"quiz", "code", "flag", "essay"}
    assert 300 <= Submission.objects.count() <= 400
    assert Enrollment.objects.filter(course__code="t-data-science-1").count() == 40
    with pytest.raises(CommandError, match="already loaded"):
        call_command("generate_load_data", learners=5, submissions=5, prefix="t")
    with pytest.raises(CommandError, match="--learners"):
        call_command("generate_load_data", learners=0, submissions=5, prefix="u")
