"""Walking-skeleton quiz grading: submit to graded, p50/p95 over 200 submissions, one worker
(concurrency 2) over Redis on PostgreSQL. Submissions are sent one at a time (latency) and then
200 at once (throughput)."""

import time

import django

django.setup()

from bench.common import figure, start_worker, stop, summary, wait_ready  # noqa: E402
from courses.models import Course  # noqa: E402
from grading import services  # noqa: E402
from grading.models import Submission  # noqa: E402
from tests.factories import UserFactory, enroll, make_quiz  # noqa: E402

N = 200
ANSWER = {"q1": ["a"], "q2": ["a", "c"]}


def main():
    code = f"bench-quiz-{time.time_ns()}"
    quiz = make_quiz(course=Course.objects.create(code=code, title="Bench", language="en", status="published"))
    learners = [UserFactory(email=f"bench-{time.time_ns()}-{i}@example.org") for i in range(N)]
    for learner in learners:
        enroll(learner, quiz.course)
    worker = start_worker()
    try:
        # Warm-up: the first task pays for imports and connections.
        first = services.submission_create(user=learners[0], assignment=quiz, answer=ANSWER)
        wait_ready(lambda: Submission.objects.filter(pk=first.pk, status="graded").exists())

        sequential = []
        for learner in learners[1:]:
            sub = services.submission_create(user=learner, assignment=quiz, answer=ANSWER)
            wait_ready(lambda pk=sub.pk: Submission.objects.filter(pk=pk, status="graded").exists())
            sequential.append(sub.pk)
        # Latency from the database's own clocks: stored (submitted_at) to graded (graded_at).
        latencies = [
            (graded - submitted).total_seconds() * 1000
            for submitted, graded in Submission.objects.filter(pk__in=sequential).values_list(
                "submitted_at", "graded_at"
            )
        ]

        t0 = time.perf_counter()
        burst = [services.submission_create(user=learner, assignment=quiz, answer=ANSWER) for learner in learners]
        ids = [s.pk for s in burst]
        wait_ready(lambda: Submission.objects.filter(pk__in=ids, status="graded").count() == len(ids))
        elapsed = time.perf_counter() - t0
    finally:
        stop(worker)

    print(f"quiz grading, submit -> graded, 1 worker (concurrency 2), {len(latencies)} sequential submissions")
    summary("submit->graded (one at a time)", latencies)
    figure("burst of 200: graded per second", f"{len(ids) / elapsed:.0f}", "submissions/s")


if __name__ == "__main__":
    main()
