"""LTI 1.3 against the independent test LMS (tests/lti_platform, its own process), with Kafaat
served over HTTP from this process (a WSGI thread): ms per launch, the whole round trip a browser
makes (the LMS's launch page, our login, the LMS's authorization, our launch and its redirect),
first launches (an account and an enrollment made) and repeat launches; then AGS, ms per score
sent (token and score, as a worker sends them) and scores per second for 100 queued grades."""

import logging
import re
import statistics
import tempfile
import threading
import time
from decimal import Decimal
from html import unescape
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django

django.setup()
logging.getLogger("django.request").setLevel(logging.ERROR)
logging.getLogger("integrations").setLevel(logging.ERROR)

from socketserver import ThreadingMixIn  # noqa: E402

import requests  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import transaction  # noqa: E402

from accounts.models import Organization  # noqa: E402
from bench.common import figure  # noqa: E402
from grading.models import GradeRecord, Submission  # noqa: E402
from grading.services import grade_record  # noqa: E402
from integrations.models import LtiGradeLink, LtiPlatform, LtiScoreDelivery  # noqa: E402
from integrations.services import lti_ags  # noqa: E402
from tests.lti_helpers import a_course_with_a_quiz, register_both  # noqa: E402
from tests.lti_platform.harness import LtiPlatformServer  # noqa: E402
from tests.processes import free_port  # noqa: E402

N_LAUNCHES = 30
N_SCORES = 100


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def serve_kafaat() -> tuple[str, WSGIServer]:
    port = free_port()
    server = make_server("localhost", port, WSGIHandler(), server_class=_Server, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://localhost:{port}", server


FIELD = re.compile(r'name="(id_token|state)" value="([^"]*)"')


def launch(lms, link_id: str, user: str) -> float:
    """One launch as a browser makes it; returns ms."""
    browser = requests.Session()
    t0 = time.perf_counter()
    page = browser.get(lms.link_view_url(link_id, user=user))  # the LMS's page (its iframe's src next)
    check = browser.get(f"{lms.url}/launch/init?link={link_id}&user={user}")  # -> our cookie check
    assert check.status_code == 200 and "lti-cookie-check" in check.text, check.text[:300]
    form = browser.get(check.url + "&kafaat_cookies=1")  # our login -> the LMS's /auth: its form
    fields = dict(FIELD.findall(form.text))
    action = unescape(re.search(r'action="([^"]*)"', form.text).group(1))
    landed = browser.post(action, data={k: unescape(v) for k, v in fields.items()}, allow_redirects=False)
    assert landed.status_code == 302, landed.text[:500]
    browser.get(
        landed.headers["Location"]
        if landed.headers["Location"].startswith("http")
        else action.split("/lti/")[0] + landed.headers["Location"]
    )
    assert page.status_code == 200
    return (time.perf_counter() - t0) * 1000


def main():
    from tests.factories import CourseFactory, ModuleFactory

    # The bench database outlives a run: this run's course codes must not meet the last run's.
    CourseFactory.reset_sequence(int(time.time()))
    ModuleFactory.reset_sequence(int(time.time()))
    base, server = serve_kafaat()
    lms = LtiPlatformServer(state_dir=tempfile.mkdtemp(prefix="bench-lti-")).start()
    try:
        org, _ = Organization.objects.get_or_create(slug="bench-lti", defaults={"name": "Bench LTI"})
        LtiPlatform.objects.filter(issuer=lms.issuer).delete()
        course, quiz = a_course_with_a_quiz()
        platform = register_both(lms, organization=org, tool_base=base)
        link = lms.add_link(
            title="Quiz", url=f"{base}/lti/{platform.uuid}/launch/",
            custom={"kafaat_resource": f"assignment:{quiz.pk}"},
            line_item={"scoreMaximum": 10, "label": "Quiz", "resourceId": "q", "tag": "kafaat"},
        )  # fmt: skip
        launch(lms, link["id"], "learner2")  # warm-up (keys, caches)
        first = [launch(lms, link["id"], "learner1")]
        again = [launch(lms, link["id"], "learner1") for _ in range(N_LAUNCHES)]
        print(f"LTI launch, the whole browser round trip over HTTP (median of {N_LAUNCHES})")
        figure("first launch (account, identity, enrollment, grade link made)", f"{first[0]:.0f}", "ms")
        figure("repeat launch", f"{statistics.median(again):.0f}", "ms")
        figure("repeat launch, 90th percentile", f"{sorted(again)[int(0.9 * len(again))]:.0f}", "ms")

        grade_link = LtiGradeLink.objects.get(platform=platform, sub="learner1")
        sub = Submission.objects.create(
            user=grade_link.user, assignment=quiz, version=quiz.current_version, attempt=1, answer={}, status="graded"
        )
        lti_ags.enqueue_links = lambda link_ids: None  # this process plays the worker
        per_score = []
        for i in range(10):
            with transaction.atomic():
                grade_record(Submission.objects.select_for_update().get(pk=sub.pk), source=GradeRecord.Source.REGRADE,
                             score=Decimal(i % 10))  # fmt: skip
            t0 = time.perf_counter()
            assert lti_ags.scores_deliver(link_id=grade_link.pk)["delivered"] == 1
            per_score.append((time.perf_counter() - t0) * 1000)
        lms.control(down=True)
        for i in range(N_SCORES):
            with transaction.atomic():
                grade_record(Submission.objects.select_for_update().get(pk=sub.pk), source=GradeRecord.Source.REGRADE,
                             score=Decimal(i % 10))  # fmt: skip
        lms.control(down=False)
        t0 = time.perf_counter()
        sent = 0
        while sent < N_SCORES:
            sent += lti_ags.scores_deliver(link_id=grade_link.pk)["delivered"]
        elapsed = time.perf_counter() - t0
        print("AGS scores to the LMS (token + score per round of up to 5, in order)")
        figure("one grade, one round", f"{statistics.median(per_score):.0f}", "ms")
        figure(f"{N_SCORES} queued grades, sent in order", f"{N_SCORES / elapsed:.0f}", "scores/s")
        accepted = [s for s in lms.scores() if s["status"] == "accepted"]
        figure("scores the LMS accepted / sent", f"{len(accepted)} / {10 + N_SCORES}", "")
        LtiScoreDelivery.objects.filter(link=grade_link).delete()
    finally:
        lms.stop()
        server.shutdown()


if __name__ == "__main__":
    main()
