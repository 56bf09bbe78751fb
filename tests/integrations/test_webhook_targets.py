"""Webhook targets (issue 12): a name is resolved at subscription and again at delivery, every
address it resolves to must be public, and the delivery dials the address that was checked (so
a second DNS answer cannot switch it: DNS rebinding).

DNS is outside the system, so it is the one thing faked here (`socket.getaddrinfo`, for the names
a test chooses; every other name and every IP literal goes to the real resolver). The receivers
are real HTTP(S) servers on loopback addresses."""

import datetime
import ipaddress
import socket
import ssl

import pytest
from django.utils import timezone

from integrations.models import WebhookDelivery
from integrations.services import targets, webhooks
from tests.factories import CourseFactory

from .conftest import row
from .receiver import Receiver

PUBLIC = "93.184.215.14"  # a global unicast address (IANA's example.com range)


class FakeDns:
    """The outside world's DNS: `answers[name]` is a list of answers, one per lookup (the last
    repeats). `lookups` records every lookup of those names."""

    def __init__(self, monkeypatch):
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []
        real = socket.getaddrinfo

        def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
            name = host.decode() if isinstance(host, bytes) else host
            if name not in self.answers:
                return real(host, port, family, type, proto, flags)
            self.lookups.append(name)
            queue = self.answers[name]
            addresses = queue.pop(0) if len(queue) > 1 else queue[0]
            if not addresses:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            port = int(port or 0)
            return [
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
                if ":" in a
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def dns(monkeypatch):
    return FakeDns(monkeypatch)


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def _subscribe(api, url):
    return api.post("webhooks", {"url": url, "event_types": ["enrollment.changed"]})


def _one_event(api):
    api.post("enrollments/sync", {"rows": [row("amina", CourseFactory().code)]})
    webhooks.events_dispatch()


# --- Which addresses are public -------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "255.255.255.255",  # noqa: S104 - an address under test, not a bind "224.0.0.1", "239.255.255.250", "240.0.0.1", "192.0.2.1", "198.18.0.1",
        "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "ff0e::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1",  # IPv4-mapped and IPv4-compatible
        "2002:7f00:1::", "2002:a9fe:a9fe::1",  # 6to4 of 127.0.0.1, 169.254.169.254
        "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1",  # NAT64 of loopback, metadata, 10/8
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo whose client is 127.0.0.1
    ],
)  # fmt: skip
def test_internal_addresses_and_their_ipv6_disguises_are_not_public(address):
    assert targets.is_public_address(ipaddress.ip_address(address)) is False


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2a00:1450:4007:80e::200e", "64:ff9b::808:808"])
def test_global_addresses_are_public(address):
    assert targets.is_public_address(ipaddress.ip_address(address)) is True


# --- At subscription --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (["127.0.0.1"], "private_host"),  # localtest.me: a public name for loopback
        ([PUBLIC, "10.0.0.7"], "private_host"),  # one private answer among public ones is enough
        (["::ffff:169.254.169.254"], "private_host"),
        (["64:ff9b::a9fe:a9fe"], "private_host"),
        ([], "unresolvable_host"),
    ],
)
def test_a_name_that_resolves_to_an_internal_address_is_refused_at_subscription(api, settings, dns, answer, code):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    dns.answers["localtest.me"] = [answer]
    resp = _subscribe(api, "http://localtest.me/hooks")
    assert resp.status_code == 400, resp.content
    (detail,) = resp.json()["error"]["details"]
    assert (detail["field"], detail["code"]) == ("url", code)
    assert not api.get("webhooks").json()


@pytest.mark.parametrize(
    "url",
    ["http://2130706433/", "http://0x7f.1/", "http://127.1/", "http://[::ffff:127.0.0.1]/", "http://[64:ff9b::7f00:1]/",
     "http://0.0.0.0:8000/", "http://[::]/"],
)  # fmt: skip
def test_internal_addresses_written_in_other_notations_are_refused_at_subscription(api, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    resp = _subscribe(api, url)
    assert resp.status_code == 400, resp.content
    # Django's URL validator already refuses the numeric shorthands (`invalid`); the rest resolve.
    assert resp.json()["error"]["details"][0]["code"] in {"private_host", "invalid"}


def test_a_public_name_is_accepted_at_subscription(api, settings, dns):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    dns.answers["sis.univ-a.test"] = [[PUBLIC, "2a00:1450:4007:80e::200e"]]
    assert _subscribe(api, "https://sis.univ-a.test/hooks").status_code == 201


# --- At delivery ------------------------------------------------------------------------------


def test_a_name_that_now_resolves_to_loopback_is_refused_at_delivery_with_a_clear_reason(api, settings, dns, receiver):
    """Accepted while its name was public, the subscription's name now answers 127.0.0.1 (where a
    receiver listens): nothing is sent, the log says why, and the retry waits its backoff."""
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    dns.answers["hooks.univ-a.test"] = [[PUBLIC]]
    sub = _subscribe(api, f"http://hooks.univ-a.test:{receiver.port}/hooks/kafaat").json()
    _one_event(api)
    dns.answers["hooks.univ-a.test"] = [["127.0.0.1"]]
    dns.lookups.clear()

    result = webhooks.webhooks_deliver(subscription_id=sub["id"])
    assert result == {"delivered": 0, "failed": 1}
    assert receiver.received == []
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_status_code is None
    assert "127.0.0.1" in delivery.last_error and "not a public address" in delivery.last_error
    assert delivery.next_attempt_at - timezone.now() > datetime.timedelta(seconds=5)  # backoff, not a storm
    assert webhooks.webhooks_deliver(subscription_id=sub["id"]) == {"delivered": 0, "failed": 0}  # not due yet
    assert dns.lookups == ["hooks.univ-a.test"]
    (log,) = api.get(f"webhooks/{sub['id']}/deliveries").json()
    assert "not a public address" in log["last_error"]


def test_a_rebinding_name_is_dialled_at_the_address_that_was_checked(api, settings, dns, receiver):
    """The name answers a public address to the check, then 127.0.0.1: the delivery goes to the
    public address (unreachable here) and never to the loopback receiver; the name is looked up
    once."""
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    dns.answers["rebind.univ-a.test"] = [[PUBLIC]]
    sub = _subscribe(api, f"http://rebind.univ-a.test:{receiver.port}/hooks/kafaat").json()
    _one_event(api)
    dns.answers["rebind.univ-a.test"] = [[PUBLIC], ["127.0.0.1"]]
    dns.lookups.clear()

    assert webhooks.webhooks_deliver(subscription_id=sub["id"]) == {"delivered": 0, "failed": 1}
    assert receiver.received == []
    assert dns.lookups == ["rebind.univ-a.test"]
    assert PUBLIC in WebhookDelivery.objects.get().last_error


def test_the_delivery_is_pinned_to_the_checked_address_and_carries_the_name_in_host(api, dns):
    """Two real receivers share a port on 127.0.0.2 and 127.0.0.1 (a lab: private hosts allowed).
    The name answers 127.0.0.2 first, then 127.0.0.1: every delivery of the round goes to
    127.0.0.2, with the name in the Host header."""
    checked = Receiver(host="127.0.0.2").start()
    switched = Receiver(host="127.0.0.1", port=checked.port).start()
    try:
        dns.answers["lab.univ-a.test"] = [["127.0.0.2"], ["127.0.0.1"]]
        sub = _subscribe(api, f"http://lab.univ-a.test:{checked.port}/hooks/kafaat").json()
        api.post("enrollments/sync", {"rows": [row("amina", CourseFactory().code), row("omar", CourseFactory().code)]})
        webhooks.events_dispatch()
        dns.answers["lab.univ-a.test"] = [["127.0.0.2"], ["127.0.0.1"]]
        assert webhooks.webhooks_deliver(subscription_id=sub["id"]) == {"delivered": 2, "failed": 0}
        assert len(checked.received) == 2 and switched.received == []
        assert {r["headers"]["Host"] for r in checked.received} == {f"lab.univ-a.test:{checked.port}"}
    finally:
        checked.stop()
        switched.stop()


# --- HTTPS: the name is still what TLS checks ----------------------------------------------------


def _certificate(tmp_path, name: str):
    """A private CA and a server certificate for `name`, signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test university CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "server.pem").write_bytes(cert.public_bytes(pem))
    (tmp_path / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    return str(tmp_path / "ca.pem"), context


def test_https_deliveries_send_the_name_as_sni_and_verify_the_certificate_for_it(api, settings, dns, tmp_path):
    ca_bundle, context = _certificate(tmp_path, "hooks.univ-a.test")
    settings.WEBHOOK_CA_BUNDLE = ca_bundle
    tls = Receiver(ssl_context=context).start()
    try:
        dns.answers["hooks.univ-a.test"] = [["127.0.0.1"]]
        dns.answers["other.univ-a.test"] = [["127.0.0.1"]]  # same server, a name its certificate lacks
        good = _subscribe(api, f"https://hooks.univ-a.test:{tls.port}/hooks/kafaat").json()
        bad = _subscribe(api, f"https://other.univ-a.test:{tls.port}/hooks/kafaat").json()
        _one_event(api)

        assert webhooks.webhooks_deliver(subscription_id=good["id"]) == {"delivered": 1, "failed": 0}
        assert len(tls.received) == 1 and "hooks.univ-a.test" in tls.server_names
        assert tls.received[0]["headers"]["Host"] == f"hooks.univ-a.test:{tls.port}"

        assert webhooks.webhooks_deliver(subscription_id=bad["id"]) == {"delivered": 0, "failed": 1}
        assert len(tls.received) == 1
        error = WebhookDelivery.objects.get(subscription_id=bad["id"]).last_error
        assert "certificate" in error.lower() and "other.univ-a.test" in error
    finally:
        tls.stop()
