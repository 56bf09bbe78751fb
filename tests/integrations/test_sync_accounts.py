"""Who the sync may touch (issue 12): it creates and updates only the learners its university
created; an existing account is linked only when its owner confirms an e-mailed link; staff,
instructors, university admins and other universities' members are never changed; and the
answer (and the reads) are the same whether or not an address already has an account."""

import re
from unittest import mock

import pytest
from django.core import mail, signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services as account_services
from accounts.models import User
from courses.models import Enrollment
from integrations.services import invites
from tests.factories import CourseFactory, UserFactory

from .conftest import row

ATTACKER = "attacker@evil.example"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True, params=["copy", "bulk_create"])
def write_path(request, settings):
    settings.INTEGRATIONS_SYNC_USE_COPY = request.param == "copy"
    return request.param


def sync(api, rows, **kw):
    return api.post("enrollments/sync", {"rows": rows, **kw})


def deliver_queued_mail(capture):
    """What beat does every 30 seconds: send the invitations and notices the syncs queued."""
    with capture(execute=True):
        invites.invites_send_pending()


def link_in(message) -> str:
    url = re.search(r"https?://\S+", message.body).group(0)
    return "/" + url.split("/", 3)[3]


def snapshot(user) -> dict:
    user.refresh_from_db()
    return {
        f: getattr(user, f)
        for f in ("email", "password", "organization_id", "external_id", "full_name", "is_active", "is_staff",
                  "is_superuser", "email_verified_at")
    }  # fmt: skip


def mail_to(address) -> list:
    return [m for m in mail.outbox if address in m.to]


# --- The takeover of issue 12, and every privileged or foreign account --------------------


def _superuser_of_this_university(org, other_org):
    return UserFactory(email="boss@univ-a.ma", organization=org, is_staff=True, is_superuser=True)


def _staff(org, other_org):
    return UserFactory(email="staff@kafaat.ma", is_staff=True)


def _instructor(org, other_org):
    user = UserFactory(email="teacher@univ-a.ma", organization=org)
    CourseFactory().instructors.add(user)
    return user


def _university_admin(org, other_org):
    user = UserFactory(email="admin@univ-a.ma", organization=org)
    account_services.membership_grant(user=user, organization=org)
    return user


def _other_universitys_member(org, other_org):
    return UserFactory(email="member@univ-b.ma", organization=other_org, external_id="b-7")


def _other_universitys_member_without_id(org, other_org):
    return UserFactory(email="plain@univ-b.ma", organization=other_org)


PROTECTED = {
    "superuser of this university": _superuser_of_this_university,
    "staff": _staff,
    "instructor": _instructor,
    "university admin": _university_admin,
    "another university's member": _other_universitys_member,
    "another university's member without an id": _other_universitys_member_without_id,
}


@pytest.mark.parametrize("kind", list(PROTECTED))
def test_a_sync_never_adopts_nor_readdresses_a_privileged_or_foreign_account(
    kind, api, org, other_org, client, django_capture_on_commit_callbacks
):
    """The takeover: the sync adopted a superuser by e-mail, then moved its address to the
    attacker's mailbox, from which a password reset led to /admin/."""
    course = CourseFactory()
    victim = PROTECTED[kind](org, other_org)
    before = snapshot(victim)

    first = sync(api, [row("x1", course.code, email=victim.email)])
    second = sync(api, [row("x1", course.code, email=ATTACKER)])
    deliver_queued_mail(django_capture_on_commit_callbacks)

    assert snapshot(victim) == before
    assert not Enrollment.objects.filter(user=victim).exists()
    # Step 2 of the takeover: a password reset asked from the attacker's mailbox.
    client.post(reverse("accounts:password-reset"), {"email": ATTACKER})
    assert all("/password/reset/" not in m.body for m in mail_to(ATTACKER))
    login = client.post(reverse("accounts:login"), {"username": ATTACKER, "password": "correct horse battery"})
    assert login.status_code == 200 and "_auth_user_id" not in client.session
    # No link is ever offered for such an account (its owner is only told).
    assert all("/links/" not in m.body for m in mail_to(victim.email))

    # The answers, and what reaches the attacker's mailbox, are those of a new learner whose
    # address is then corrected: an invitation to a new, empty account.
    other_course = CourseFactory()
    control_first = sync(api, [row("c1", other_course.code, email="nobody-yet@univ-a.ma")])
    control_second = sync(api, [row("c1", other_course.code, email="attacker-2@evil.example")])
    deliver_queued_mail(django_capture_on_commit_callbacks)
    assert (first.status_code, first.json()) == (control_first.status_code, control_first.json())
    assert (second.status_code, second.json()) == (control_second.status_code, control_second.json())
    assert [m.subject for m in mail_to(ATTACKER)] == [m.subject for m in mail_to("attacker-2@evil.example")]
    assert all("/accounts/activate/" in m.body for m in mail_to(ATTACKER))


def test_the_exact_takeover_gives_the_attacker_nothing_but_a_new_learner_account(
    api, org, django_capture_on_commit_callbacks
):
    course = CourseFactory()
    boss = _superuser_of_this_university(org, None)
    before = snapshot(boss)
    sync(api, [row("boss", course.code, email=boss.email)])
    sync(api, [row("boss", course.code, email=ATTACKER)])
    deliver_queued_mail(django_capture_on_commit_callbacks)

    attacker = Client()
    attacker.post(reverse("accounts:password-reset"), {"email": ATTACKER})
    received = mail_to(ATTACKER)
    assert all("/password/reset/" not in m.body for m in received)
    # What reaches the attacker is the invitation any new learner gets, for a new account.
    (invitation,) = received
    path = link_in(invitation)
    assert path.startswith("/accounts/activate/")
    password = "a-long Passphrase 42"
    attacker.post(path, {"password1": password, "password2": password, "accept_privacy": "on"})
    theirs = User.objects.get(email=ATTACKER)
    assert theirs.pk != boss.pk and not theirs.is_staff and not theirs.is_superuser
    assert attacker.get("/admin/").status_code == 302
    assert snapshot(boss) == before
    assert boss.check_password("correct horse battery")


# --- Same answer whether or not an address has an account ----------------------------------


def test_the_answer_and_its_cost_are_the_same_for_known_and_unknown_addresses(api, org, other_org):
    course = CourseFactory()
    sync(api, [row("warm-up", course.code)])  # first request: imports, caches
    UserFactory(email="known@univ-a.ma")  # a self sign-up
    UserFactory(email="boss@univ-a.ma", is_superuser=True, is_staff=True)

    with CaptureQueriesContext(connection) as unknown_queries:
        unknown = sync(api, [row("u1", course.code, email="unknown@univ-a.ma")])
    with CaptureQueriesContext(connection) as known_queries:
        known = sync(api, [row("k1", course.code, email="known@univ-a.ma")])
    with CaptureQueriesContext(connection) as boss_queries:
        boss = sync(api, [row("b1", course.code, email="boss@univ-a.ma")])
    assert unknown.status_code == known.status_code == boss.status_code == 200, known.json()
    assert unknown.json() == known.json() == boss.json()
    assert len(unknown_queries) == len(known_queries) == len(boss_queries)

    # A batch mixing them is not failed for the known ones.
    mixed = sync(api, [row("u2", course.code, email="new@univ-a.ma"), row("b2", course.code, email="boss@univ-a.ma")])
    assert mixed.status_code == 200, mixed.json()
    assert mixed.json()["learners"] == {"created": 2, "updated": 0}

    # A dry run too.
    dry_unknown = sync(api, [row("u3", course.code, email="unknown-3@univ-a.ma")], dry_run=True)
    dry_known = sync(api, [row("k3", course.code, email="known@univ-a.ma")], dry_run=True)
    assert dry_unknown.json() == dry_known.json()


def test_a_grade_override_webhook_carries_the_roster_address_not_the_stand_ins(api, org):
    """An instructor overriding a pending link's grade sends submission.graded to the university:
    the learner in it must read like an invitee's (the row's address), not the stand-in's
    undeliverable login address, which would tell that the address has an account."""
    from analytics import services as analytics_services
    from integrations.services import webhooks
    from tests.factories import make_quiz

    from .receiver import Receiver

    course = CourseFactory()
    quiz = make_quiz(course=course)
    teacher = UserFactory()
    course.instructors.add(teacher)
    UserFactory(email="known@univ-a.ma")
    sync(api, [row("u1", course.code, email="unknown@univ-a.ma"), row("k1", course.code, email="known@univ-a.ma")])
    receiver = Receiver().start()
    try:
        sub = api.post("webhooks", {"url": receiver.url, "event_types": ["submission.graded"]}).json()
        for ext in ("u1", "k1"):
            analytics_services.grade_override(
                actor=teacher, course=course, learner=User.objects.get(organization=org, external_id=ext),
                assignment=quiz, score=1, reason="oral exam",
            )  # fmt: skip
        webhooks.events_dispatch()
        webhooks.webhooks_deliver(subscription_id=sub["id"])
    finally:
        receiver.stop()
    learners = {r["json"]["data"]["learner"]["external_id"]: r["json"]["data"]["learner"] for r in receiver.received}
    assert learners == {
        "u1": {"external_id": "u1", "email": "unknown@univ-a.ma"},
        "k1": {"external_id": "k1", "email": "known@univ-a.ma"},
    }


def _strip(learner: dict) -> dict:
    return {**learner, "external_id": "-", "email": "-"}


def test_the_reads_show_a_pending_link_like_an_invited_learner(api, org):
    course = CourseFactory()
    UserFactory(email="known@univ-a.ma", full_name="Someone Else")
    sync(api, [row("u1", course.code, email="unknown@univ-a.ma"), row("k1", course.code, email="known@univ-a.ma")])

    unknown, known = api.get("learners/u1").json(), api.get("learners/k1").json()
    assert unknown["email"] == "unknown@univ-a.ma" and known["email"] == "known@univ-a.ma"
    assert _strip(unknown) == _strip(known)
    assert known["is_active"] is False and known["full_name"] == "Amina Alaoui"
    assert known["enrollments"] == [{"course_code": course.code, "status": "active", "completed_at": None}]

    listed = {r["learner"]["external_id"]: r for r in api.get("enrollments").json()["results"]}
    assert listed["k1"]["learner"] == {"external_id": "k1", "email": "known@univ-a.ma"}
    assert {k: v for k, v in listed["k1"].items() if k not in ("learner", "updated_at")} == {
        k: v for k, v in listed["u1"].items() if k not in ("learner", "updated_at")
    }


# --- Linking an existing account: only by its owner's confirmation ---------------------------


def _page_csrf(client, path):
    page = client.get(path)
    assert page.status_code == 200, page.content[:500]
    return page, CSRF.search(page.content.decode()).group(1)


def test_an_existing_learner_is_linked_only_after_confirming_the_emailed_link(
    api, org, django_capture_on_commit_callbacks
):
    course = CourseFactory()
    amina = UserFactory(email="amina@univ-a.ma", full_name="Amina Self")
    before = snapshot(amina)

    resp = sync(api, [row("s1", course.code, email="amina@univ-a.ma")])
    assert resp.status_code == 200 and resp.json()["learners"] == {"created": 1, "updated": 0}
    assert snapshot(amina) == before  # nothing until she confirms
    assert not Enrollment.objects.filter(user=amina).exists()

    deliver_queued_mail(django_capture_on_commit_callbacks)
    (message,) = mail_to("amina@univ-a.ma")
    assert org.name in message.body and org.name in message.subject
    path = link_in(message)

    anonymous = Client()
    response = anonymous.get(path)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(amina)
    page, token = _page_csrf(browser, path)
    assert org.name in page.content.decode()
    assert snapshot(amina) == before  # looking is not confirming
    assert browser.post(path, {}).status_code == 403  # no CSRF token: refused
    response = browser.post(path, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302

    amina.refresh_from_db()
    assert (amina.organization_id, amina.external_id) == (org.pk, "s1")
    assert amina.email == "amina@univ-a.ma" and amina.full_name == "Amina Self"
    assert amina.check_password("correct horse battery")
    assert Enrollment.objects.get(user=amina, course=course).status == "active"
    assert User.objects.filter(organization=org, external_id="s1").count() == 1
    learner = api.get("learners/s1").json()
    assert learner["email"] == "amina@univ-a.ma" and learner["is_active"] is True
    assert [e["course_code"] for e in learner["enrollments"]] == [course.code]

    # The link works once.
    response = browser.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and b"already been used" in response.content

    # Later syncs manage her enrollments in this university's courses...
    assert sync(api, [row("s1", course.code, status="dropped", email="amina@univ-a.ma")]).status_code == 200
    assert Enrollment.objects.get(user=amina, course=course).status == "dropped"
    # ...but never her address or her name: this university did not create her account.
    sync(api, [row("s1", course.code, email=ATTACKER, given="Mallory")])
    deliver_queued_mail(django_capture_on_commit_callbacks)
    assert snapshot(amina)["email"] == "amina@univ-a.ma" and amina.full_name == "Amina Self"
    assert mail_to(ATTACKER) == []


def test_a_member_of_this_university_without_an_id_is_offered_a_link_not_adopted(
    api, org, django_capture_on_commit_callbacks
):
    course = CourseFactory()
    member = UserFactory(email="member@univ-a.ma", organization=org)
    before = snapshot(member)
    resp = sync(api, [row("m1", course.code, email="member@univ-a.ma")])
    assert resp.json()["learners"] == {"created": 1, "updated": 0}
    assert snapshot(member) == before
    deliver_queued_mail(django_capture_on_commit_callbacks)
    (message,) = mail_to("member@univ-a.ma")
    assert "/links/" in message.body


@pytest.fixture
def pending_link(api, org, django_capture_on_commit_callbacks):
    course = CourseFactory()
    amina = UserFactory(email="amina@univ-a.ma")
    sync(api, [row("s1", course.code, email="amina@univ-a.ma")])
    deliver_queued_mail(django_capture_on_commit_callbacks)
    (message,) = mail_to("amina@univ-a.ma")
    return {"user": amina, "path": link_in(message), "course": course}


def _not_linked(user):
    user.refresh_from_db()
    assert user.organization_id is None and user.external_id is None
    assert not Enrollment.objects.filter(user=user).exists()


def test_a_forged_link_is_refused(pending_link):
    browser = Client()
    browser.force_login(pending_link["user"])
    forged = pending_link["path"].rstrip("/")[:-3] + "abc/"
    response = browser.get(forged, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and b"not valid" in response.content
    assert browser.post(forged).status_code == 400
    _not_linked(pending_link["user"])


def test_an_expired_link_is_refused(pending_link, settings):
    browser = Client()
    browser.force_login(pending_link["user"])
    later = signing.time.time() + settings.KAFAAT_EMAIL_LINK_MAX_AGE + 10
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = browser.get(pending_link["path"], HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400 and b"expired" in response.content
        assert browser.post(pending_link["path"]).status_code == 400
    _not_linked(pending_link["user"])


def test_a_link_confirmed_from_another_account_is_refused(pending_link):
    someone = UserFactory(email="someone@else.ma")
    browser = Client()
    browser.force_login(someone)
    assert browser.get(pending_link["path"]).status_code == 400
    assert browser.post(pending_link["path"]).status_code == 400
    _not_linked(pending_link["user"])
    someone.refresh_from_db()
    assert someone.organization_id is None and not Enrollment.objects.filter(user=someone).exists()


def test_an_account_that_became_privileged_can_no_longer_be_linked(pending_link):
    CourseFactory().instructors.add(pending_link["user"])
    browser = Client()
    browser.force_login(pending_link["user"])
    assert browser.post(pending_link["path"]).status_code == 400
    _not_linked(pending_link["user"])


def test_linking_keeps_what_was_recorded_about_the_stand_in(pending_link, org):
    """An instructor's grade override and the reads of the roster entry are the learner's record:
    confirming the link moves them to the account instead of deleting them with the stand-in."""
    from accounts.models import AuditEntry
    from analytics import services as analytics_services
    from analytics.models import GradeOverride
    from tests.factories import make_quiz
    from tests.twofactor import login_with_2fa

    amina, course = pending_link["user"], pending_link["course"]
    quiz = make_quiz(course=course)
    teacher = UserFactory(full_name="Prof Lecteur")
    course.instructors.add(teacher)
    # She enrolled herself too: the gradebook read of her own row twins the stand-in's entry.
    Enrollment.objects.create(user=amina, course=course)
    stand_in = User.objects.get(organization=org, external_id="s1")
    analytics_services.grade_override(
        actor=teacher, course=course, learner=stand_in, assignment=quiz, score=7, reason="oral exam"
    )
    teaching = Client()
    login_with_2fa(teaching, teacher)
    assert teaching.get(reverse("analytics:gradebook", args=[course.code])).status_code == 200
    assert teaching.get(reverse("analytics:override", args=[course.code, stand_in.pk, quiz.pk])).status_code == 200
    assert AuditEntry.objects.filter(subject_user=stand_in).count() == 2

    browser = Client()
    browser.force_login(amina)
    assert browser.post(pending_link["path"]).status_code == 302
    assert not User.objects.filter(pk=stand_in.pk).exists()

    (override,) = GradeOverride.objects.filter(assignment=quiz)
    assert (override.user_id, override.score, override.reason) == (amina.pk, 7, "oral exam")
    book = teaching.get(reverse("analytics:gradebook", args=[course.code])).content.decode()
    assert "overridden by an instructor" in book
    reads = AuditEntry.objects.filter(subject_user=amina, actor=teacher)
    assert {(e.action, e.object_type) for e in reads} >= {("grades.view", "courses.course"),
                                                         ("grades.view", "courses.assignment")}  # fmt: skip
    privacy = browser.get(reverse("accounts:privacy"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Prof Lecteur" in privacy


def test_a_full_sync_drops_a_pending_links_enrollment_like_any_other(api, org):
    course = CourseFactory()
    UserFactory(email="known@univ-a.ma")
    rows = [row(f"s{i}", course.code) for i in range(9)] + [row("k1", course.code, email="known@univ-a.ma")]
    sync(api, rows)
    resp = sync(api, rows[:9], mode="full")
    assert resp.status_code == 200 and resp.json()["counts"]["dropped"] == 1
    assert api.get("learners/k1").json()["enrollments"][0]["status"] == "dropped"


# --- Changes of address by the sync ---------------------------------------------------------


def _activate(path, client=None):
    client = client or Client()
    password = "a-long Passphrase 42"
    response = client.post(path, {"password1": password, "password2": password, "accept_privacy": "on"})
    assert response.status_code == 302
    return password


def test_a_sync_readdressing_its_own_activated_learner_waits_for_the_owners_confirmation(
    api, org, django_capture_on_commit_callbacks
):
    course = CourseFactory()
    sync(api, [row("s1", course.code, email="s1@univ-a.ma")])
    deliver_queued_mail(django_capture_on_commit_callbacks)
    password = _activate(link_in(mail_to("s1@univ-a.ma")[0]))
    learner = User.objects.get(external_id="s1")

    resp = sync(api, [row("s1", course.code, email="s1-new@univ-a.ma")])
    assert resp.status_code == 200 and resp.json()["learners"] == {"created": 0, "updated": 1}
    deliver_queued_mail(django_capture_on_commit_callbacks)
    learner.refresh_from_db()
    assert learner.email == "s1@univ-a.ma"
    assert api.get("learners/s1").json()["email"] == "s1@univ-a.ma"  # until confirmed
    (confirmation,) = mail_to("s1-new@univ-a.ma")
    notices = [m for m in mail_to("s1@univ-a.ma") if "s1-new@univ-a.ma" in m.body]
    assert len(notices) == 1 and org.name in notices[0].body
    # The same batch again does not ask twice.
    assert sync(api, [row("s1", course.code, email="s1-new@univ-a.ma")]).json()["learners"]["updated"] == 0
    deliver_queued_mail(django_capture_on_commit_callbacks)
    assert len(mail_to("s1-new@univ-a.ma")) == 1

    owner = Client()
    assert owner.post(reverse("accounts:login"), {"username": "s1@univ-a.ma", "password": password}).status_code == 302
    assert owner.post(link_in(confirmation)).status_code == 302
    learner.refresh_from_db()
    assert learner.email == "s1-new@univ-a.ma"
    assert api.get("learners/s1").json()["email"] == "s1-new@univ-a.ma"


def test_a_sync_correcting_a_never_activated_invitee_moves_the_invitation_and_tells_the_old_address(
    api, org, django_capture_on_commit_callbacks
):
    course = CourseFactory()
    sync(api, [row("s1", course.code, email="typo@univ-a.ma")])
    deliver_queued_mail(django_capture_on_commit_callbacks)
    (first_invitation,) = mail_to("typo@univ-a.ma")

    resp = sync(api, [row("s1", course.code, email="right@univ-a.ma")])
    assert resp.json()["learners"] == {"created": 0, "updated": 1}
    deliver_queued_mail(django_capture_on_commit_callbacks)
    assert api.get("learners/s1").json()["email"] == "right@univ-a.ma"
    (invitation,) = mail_to("right@univ-a.ma")
    notices = mail_to("typo@univ-a.ma")[1:]
    assert len(notices) == 1 and "right@univ-a.ma" not in notices[0].body
    assert Client().get(link_in(first_invitation)).status_code == 400  # the old link is dead
    _activate(link_in(invitation))
    assert User.objects.get(external_id="s1").email == "right@univ-a.ma"


def test_correcting_an_invitee_to_an_existing_accounts_address_offers_that_account_a_link(
    api, org, django_capture_on_commit_callbacks
):
    course = CourseFactory()
    amina = UserFactory(email="amina@univ-a.ma")
    before = snapshot(amina)
    sync(api, [row("s1", course.code, email="typo@univ-a.ma")])
    resp = sync(api, [row("s1", course.code, email="amina@univ-a.ma")])
    assert resp.json()["learners"] == {"created": 0, "updated": 1}
    deliver_queued_mail(django_capture_on_commit_callbacks)
    assert snapshot(amina) == before
    assert api.get("learners/s1").json()["email"] == "amina@univ-a.ma"
    (offer,) = mail_to("amina@univ-a.ma")
    assert "/links/" in offer.body


# --- OneRoster imports follow the same rules (real uploads) ----------------------------------


def test_a_oneroster_import_with_a_superusers_address_changes_nothing_and_fails_nothing(
    api, org, django_capture_on_commit_callbacks
):
    from .test_oneroster import package, upload

    CourseFactory(code="ds-101")
    boss = _superuser_of_this_university(org, None)
    before = snapshot(boss)
    resp = upload(api, package(course_code="ds-101", students=[("s1", "s1@u.ma"), ("s2", boss.email)]))
    assert resp.status_code == 200, resp.json()
    assert resp.json()["learners"] == {"created": 2, "updated": 0}
    resp = upload(api, package(course_code="ds-101", students=[("s1", "s1@u.ma"), ("s2", ATTACKER)]))
    assert resp.status_code == 200, resp.json()
    deliver_queued_mail(django_capture_on_commit_callbacks)
    assert snapshot(boss) == before
    assert not Enrollment.objects.filter(user=boss).exists()
    assert all("/password/reset/" not in m.body for m in mail_to(ATTACKER))


def test_a_oneroster_import_readdressing_an_activated_learner_waits_for_confirmation(
    api, org, django_capture_on_commit_callbacks
):
    from .test_oneroster import package, upload

    CourseFactory(code="ds-101")
    upload(api, package(course_code="ds-101", students=[("s1", "s1@u.ma")]))
    deliver_queued_mail(django_capture_on_commit_callbacks)
    _activate(link_in(mail_to("s1@u.ma")[0]))
    resp = upload(api, package(course_code="ds-101", students=[("s1", "s1-new@u.ma")]))
    assert resp.status_code == 200 and resp.json()["learners"]["updated"] == 1
    deliver_queued_mail(django_capture_on_commit_callbacks)
    assert User.objects.get(external_id="s1").email == "s1@u.ma"
    assert len(mail_to("s1-new@u.ma")) == 1
    assert any("s1-new@u.ma" in m.body for m in mail_to("s1@u.ma"))


def test_a_stand_in_can_never_be_used_nor_activated_even_by_staff(api, org, django_capture_on_commit_callbacks):
    from tests.accounts.test_email_change import admin_form_data
    from tests.twofactor import login_with_2fa

    course = CourseFactory()
    UserFactory(email="known@univ-a.ma")
    sync(api, [row("k1", course.code, email="known@univ-a.ma")])
    stand_in = User.objects.get(organization=org, external_id="k1")
    assert stand_in.display_email == "known@univ-a.ma" and stand_in.email != "known@univ-a.ma"

    staff = UserFactory(is_staff=True, is_superuser=True)
    admin = Client()
    login_with_2fa(admin, staff)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(reverse("admin:accounts_user_changelist"),
                   {"action": "send_invitation", "_selected_action": [stand_in.pk]})  # fmt: skip
    assert mail_to(stand_in.email) == []
    url = reverse("admin:accounts_user_change", args=[stand_in.pk])
    data = admin_form_data(admin.get(url).context["adminform"].form)
    response = admin.post(url, {**data, "is_active": "on"})
    assert response.status_code == 200 and response.context["adminform"].form.errors
    response = admin.post(url, {**data, "email": "mine-now@evil.example"})
    assert response.status_code == 200 and response.context["adminform"].form.errors
    stand_in.refresh_from_db()
    assert not stand_in.is_active and not stand_in.has_usable_password()
    assert stand_in.email.endswith("@stand-in.invalid")
