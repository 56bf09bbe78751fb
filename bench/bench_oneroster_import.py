"""OneRoster import: big_package (5,000 users, 12,000 student enrollments, bulk) imported at the
default settings through the service the API job and the command run (read, check, store the
roster, enrollment sync in chunks), then the same package again (nothing changes), then once more
for a fresh university under tracemalloc for the peak of Python allocations. Prints seconds and
memory: the process's peak resident set growth (ru_maxrss) over the first import, and the
tracemalloc peak."""

import io
import resource
import time
import tracemalloc
import uuid

import django

django.setup()

from accounts.models import Organization  # noqa: E402
from bench.common import figure  # noqa: E402
from courses.models import Course  # noqa: E402
from integrations.services.oneroster import oneroster_import  # noqa: E402
from roster.models import RosterEnrollment, RosterUser  # noqa: E402
from scripts.oneroster_packages import COURSE_CODES, big_package  # noqa: E402

USERS, ENROLLMENTS = 5000, 12000


def run(org, data):
    t0 = time.perf_counter()
    body = oneroster_import(organization=org, fileobj=io.BytesIO(data), size=len(data), endpoint="bench")
    return time.perf_counter() - t0, body


def main():
    for code in COURSE_CODES:
        Course.objects.get_or_create(code=code, defaults={"title": code, "language": "en", "status": "published"})
    data = big_package(users=USERS, enrollments=ENROLLMENTS)
    tag = uuid.uuid4().hex[:8]
    org = Organization.objects.create(slug=f"or-{tag}", name="OneRoster bench")
    print(f"OneRoster import of big_package({USERS}, {ENROLLMENTS}): {len(data) / 1024:.0f} KiB zip")

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds, body = run(org, data)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # A student in two classes of the same course holds one seat (enrollment) in it.
    seats = len(set(RosterEnrollment.objects.filter(organization=org, role="student").values_list(
        "roster_user_id", "roster_class__course_id")))  # fmt: skip
    assert body["counts"]["created"] == seats, (body["counts"], seats)
    assert RosterUser.objects.filter(organization=org).count() >= USERS
    assert RosterEnrollment.objects.filter(organization=org, role="student").count() == ENROLLMENTS
    figure("first import (creates everything)", f"{seconds:.1f}", "s")
    figure("  roster enrollments stored per second", f"{ENROLLMENTS / seconds:.0f}")
    figure("  Kafaat enrollments created", seats)
    figure("peak RSS growth over the first import", f"{(rss1 - rss0) / 1024:.0f}", "MiB")

    seconds, body = run(org, data)
    assert body["counts"]["created"] == body["counts"]["updated"] == 0, body["counts"]
    figure("same bulk again (no change)", f"{seconds:.1f}", "s")

    org2 = Organization.objects.create(slug=f"or-{tag}-2", name="OneRoster bench 2")
    tracemalloc.start()
    seconds, body = run(org2, data)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figure("import under tracemalloc", f"{seconds:.1f}", "s")
    figure("tracemalloc peak (Python allocations)", f"{peak / 1024 / 1024:.0f}", "MiB")


if __name__ == "__main__":
    main()
