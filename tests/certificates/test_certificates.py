"""Certificates: issued once per completed course or path, signed as Open Badges 3.0 credentials
that an independent verifier (Digital Bazaar's @digitalbazaar/vc, run with node) accepts, and
verifiable publicly as valid, revoked or unknown."""

import copy
import json
import subprocess
import sys
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from certificates import selectors, services, signing
from certificates.models import Certificate, IssuerKey
from kernel.errors import ApplicationError, PermissionDenied
from learning.models import Notification
from tests.factories import CourseFactory, PathFactory, UserFactory, add_to_path, enroll
from tests.processes import ROOT
from tests.twofactor import login_with_2fa

pytestmark = pytest.mark.django_db


def completed(user, course):
    e = enroll(user, course)
    e.completed_at = timezone.now()
    e.save()
    return e


def independent_verify(client, credential: dict) -> dict:
    """Run the npm verifier on a credential, giving it the issuer documents our server serves."""
    issuer_url = services.issuer_url()
    documents = {issuer_url: client.get(reverse("certificates:issuer")).json()}
    for key in IssuerKey.objects.all():
        documents[services.key_url(key)] = client.get(reverse("certificates:issuer-key", args=[key.kid])).json()
    result = subprocess.run(
        ["node", str(ROOT / "tests/certificates/verify_credential.mjs")],
        input=json.dumps({"credential": credential, "documents": documents}),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_issued_course_credential_is_an_open_badge_that_the_independent_verifier_accepts(client):
    user = UserFactory(full_name="Amina Benali")
    course = CourseFactory(title="Data science 101")
    completed(user, course)

    cert = services.certificate_issue(user_id=user.pk, course_id=course.pk)

    vc = cert.credential
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2", signing.OB_V3]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["issuer"]["id"] == services.issuer_url() and vc["issuer"]["name"] == "Kafaat"
    assert vc["credentialSubject"]["type"] == ["AchievementSubject"]
    achievement = vc["credentialSubject"]["achievement"]
    assert achievement["name"] == "Data science 101" and achievement["criteria"]["narrative"]
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022" and vc["proof"]["proofValue"].startswith("z")
    assert user.email not in json.dumps(vc)  # the e-mail is only there salted and hashed
    assert independent_verify(client, vc) == {"verified": True, "errors": []}


def test_a_tampered_credential_fails_both_verifiers(client):
    user = UserFactory()
    course = CourseFactory()
    completed(user, course)
    cert = services.certificate_issue(user_id=user.pk, course_id=course.pk)
    tampered = copy.deepcopy(cert.credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Doctorate in everything"

    assert selectors.credential_is_authentic(credential=cert.credential)
    assert not selectors.credential_is_authentic(credential=tampered)
    result = independent_verify(client, tampered)
    assert result["verified"] is False and any("signature" in e.lower() for e in result["errors"])


def test_after_key_rotation_old_and_new_credentials_both_verify(client):
    user = UserFactory()
    first, second = CourseFactory(), CourseFactory()
    completed(user, first)
    completed(user, second)
    old = services.certificate_issue(user_id=user.pk, course_id=first.pk)

    new_key = services.issuer_key_rotate()
    new = services.certificate_issue(user_id=user.pk, course_id=second.pk)

    assert new.key == new_key and old.key != new_key
    assert IssuerKey.objects.filter(is_active=True).count() == 1
    issuer = client.get(reverse("certificates:issuer")).json()
    assert len(issuer["assertionMethod"]) == 2
    for cert in (old, new):
        assert selectors.verification_status(certificate=cert) == "valid"
        assert independent_verify(client, cert.credential)["verified"] is True


def test_issuing_is_idempotent_and_refuses_what_is_not_complete():
    user = UserFactory()
    course, unfinished = CourseFactory(), CourseFactory()
    completed(user, course)
    enroll(user, unfinished)

    first = services.certificate_issue(user_id=user.pk, course_id=course.pk)
    again = services.certificate_issue(user_id=user.pk, course_id=course.pk)

    assert first.pk == again.pk and Certificate.objects.count() == 1
    assert Notification.objects.filter(user=user, kind="certificate").count() == 1
    with pytest.raises(ApplicationError):
        services.certificate_issue(user_id=user.pk, course_id=unfinished.pk)


def test_completing_the_last_course_of_a_path_issues_the_path_certificate_too():
    user = UserFactory()
    path = PathFactory(title="Cybersecurity for hospitals")
    a, b = CourseFactory(), CourseFactory()
    add_to_path(path, a, 1)
    add_to_path(path, b, 2)
    completed(user, a)

    assert [c.course for c in services.certificates_issue_for_course(user_id=user.pk, course_id=a.pk)] == [a]
    completed(user, b)
    issued = services.certificates_issue_for_course(user_id=user.pk, course_id=b.pk)

    assert [c.course for c in issued] == [b, None]
    assert issued[1].path == path and issued[1].credential["credentialSubject"]["achievement"]["name"] == path.title


def test_the_sweep_issues_certificates_whose_message_was_lost():
    user = UserFactory()
    course = CourseFactory()
    completed(user, course)

    assert services.certificates_sweep_missing() == 1
    assert services.certificates_sweep_missing() == 0
    assert Certificate.objects.filter(user=user, course=course).exists()


def test_public_verification_page_says_valid_revoked_or_unknown(client):
    user = UserFactory(full_name="Youssef Alaoui")
    staff = UserFactory(is_staff=True)
    course = CourseFactory(title="Health law basics")
    completed(user, course)
    cert = services.certificate_issue(user_id=user.pk, course_id=course.pk)
    url = reverse("certificates:verify", args=[cert.id])

    page = client.get(url)
    assert page.status_code == 200
    assert 'data-verification="valid"' in page.text
    assert "Youssef Alaoui" in page.text and "Health law basics" in page.text

    with pytest.raises(ApplicationError):
        services.certificate_revoke(certificate=cert, by=staff, reason="  ")
    services.certificate_revoke(certificate=cert, by=staff, reason="Plagiarism found")
    page = client.get(url)
    assert 'data-verification="revoked"' in page.text and "Plagiarism found" in page.text

    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        page = client.get(reverse("certificates:verify", args=[unknown]))
        assert page.status_code == 404 and 'data-verification="unknown"' in page.text


def test_only_staff_may_revoke(client):
    user = UserFactory()
    course = CourseFactory()
    completed(user, course)
    cert = services.certificate_issue(user_id=user.pk, course_id=course.pk)

    with pytest.raises(PermissionDenied):
        services.certificate_revoke(certificate=cert, by=user, reason="I want to")
    client.force_login(user)
    client.post(reverse("certificates:revoke", args=[cert.id]), {"reason": "I want to"})
    cert.refresh_from_db()
    assert cert.revoked_at is None

    staff = UserFactory(is_staff=True)
    client.force_login(staff)  # a password alone: staff only once the session passed two-factor
    client.post(reverse("certificates:revoke", args=[cert.id]), {"reason": "Issued by mistake"})
    cert.refresh_from_db()
    assert cert.revoked_at is None
    login_with_2fa(client, staff)
    r = client.post(reverse("certificates:revoke", args=[cert.id]), {"reason": "Issued by mistake"})
    assert r.status_code == 302
    cert.refresh_from_db()
    assert cert.revoked_at and cert.revoked_reason == "Issued by mistake" and cert.revoked_by == staff


def test_certificate_pages_belong_to_their_learner_and_staff(client):
    owner, other, staff = UserFactory(), UserFactory(), UserFactory(is_staff=True)
    course = CourseFactory()
    completed(owner, course)
    cert = services.certificate_issue(user_id=owner.pk, course_id=course.pk)
    urls = [reverse(f"certificates:{n}", args=[cert.id]) for n in ("detail", "pdf", "credential")]

    for url in urls:
        assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(other)
    for url in urls:
        assert client.get(url).status_code == 404
    client.force_login(staff)  # a password alone: the certificate is not theirs
    for url in urls:
        assert client.get(url).status_code == 404
    client.force_login(owner)
    for url in urls:
        assert client.get(url).status_code == 200
    login_with_2fa(client, staff)
    for url in urls:
        assert client.get(url).status_code == 200


def test_pdf_is_a_one_page_pdf_with_a_qr_code(client):
    user = UserFactory(full_name="Salma Idrissi")
    course = CourseFactory()
    completed(user, course)
    cert = services.certificate_issue(user_id=user.pk, course_id=course.pk)
    client.force_login(user)

    r = client.get(reverse("certificates:pdf", args=[cert.id]))

    assert r["Content-Type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert b"/Count 1" in r.content
    assert b"Salma Idrissi" in r.content and str(cert.id).encode() in r.content


def test_json_ld_contexts_are_never_fetched():
    with pytest.raises(signing.ContextNotVendored):
        signing.document_loader("https://example.org/evil-context.json")
    doc = {"@context": ["https://example.org/evil-context.json"], "name": "x"}
    assert not signing.verify({**doc, "proof": {"type": "DataIntegrityProof"}}, resolve_key=lambda m: None)


@pytest.mark.django_db(transaction=True)
def test_two_workers_issuing_at_once_make_one_certificate():
    """Two transactions race to issue the same certificate: the constraint keeps one, both callers
    get it, and the learner is notified once."""
    import threading

    from django.db import connection

    user = UserFactory()
    course = CourseFactory()
    completed(user, course)
    services.issuer_key_active()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def issue():
        try:
            barrier.wait(timeout=30)
            results.append(services.certificate_issue(user_id=user.pk, course_id=course.pk).pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert not errors and len(results) == 2 and results[0] == results[1]
    assert Certificate.objects.filter(user=user, course=course).count() == 1
    assert Notification.objects.filter(user=user, kind="certificate").count() == 1


def test_pdf_sets_an_arabic_name_and_arabic_labels_in_a_font_that_has_their_glyphs(client):
    from django.utils import translation
    from reportlab.pdfbase import pdfmetrics

    from certificates import pdf as certificate_pdf

    user = UserFactory(full_name="أمينة بنعلي")
    course = CourseFactory(title="علم البيانات")
    completed(user, course)
    cert = services.certificate_issue(user_id=user.pk, course_id=course.pk)
    client.force_login(user)

    r = client.get(reverse("certificates:pdf", args=[cert.id]), HTTP_ACCEPT_LANGUAGE="ar")

    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert b"DejaVuSans" in r.content  # the font with Arabic glyphs is embedded, not Helvetica
    regular, bold = certificate_pdf.register_fonts()
    with translation.override("ar"):
        texts = [user.full_name, course.title, translation.gettext("Certificate of completion")]
    assert texts[2] != "Certificate of completion"  # the Arabic label, not the English one
    for text in texts:
        shaped = certificate_pdf.shaped(text)
        assert shaped != text  # joined letter forms, right-to-left order
        for font in (regular, bold):
            missing = [c for c in shaped if ord(c) not in pdfmetrics.getFont(font).face.charToGlyph]
            assert not missing, (text, font, missing)


@pytest.mark.django_db(databases=[])
def test_canonicalizing_in_many_threads_at_once_gives_every_thread_the_same_answer():
    """pyld keeps its resolved contexts in one process-wide LRU cache that is not thread-safe: two
    threads evicting from it at once raised 'OrderedDict mutated during iteration' while two
    workers issued the same certificate. Canonicalization is serialized, so threads that sign or
    verify at once all get the one canonical form."""
    import threading

    document = {
        "@context": [signing.VC_V2, signing.OB_V3],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://kafaat.example/issuer", "type": ["Profile"], "name": "Kafaat"},
        "validFrom": "2026-12-07T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://kafaat.example/a/1",
                "type": ["Achievement"],
                "name": "Données de santé",
                "description": "حوكمة البيانات",
                "criteria": {"narrative": "Completed"},
            },
        },
    }
    expected = signing.canonicalize(document)
    barrier = threading.Barrier(8)
    answers, errors = [], []

    def churn(n):
        try:
            barrier.wait(timeout=30)
            for i in range(25):
                answers.append(signing.canonicalize(copy.deepcopy(document)))
                # A context of its own makes the shared cache evict, as a long-lived worker's does.
                signing.canonicalize({"@context": {"x": f"https://kafaat.example/{n}/{i}"}, "x": "1"})
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        threads = [threading.Thread(target=churn, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        sys.setswitchinterval(switch)
    assert errors == []
    assert len(answers) == 200 and set(answers) == {expected}
