"""cyber-103's artifacts: one synthetic ransomware incident at an invented regional hospital
(CHR Oued-Nour, chr-ouednour.example), seen through a phishing e-mail, a Windows event export,
a Zeek-like network summary (conn, dns), a web-proxy log and a VPN log. Every name is invented,
every public address is in a documentation range (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24),
every domain ends in .example; the times are UTC except the e-mail's headers (+0100)."""

import random
from datetime import datetime, timedelta

C = "cyber-103/files/"
DAY0 = datetime(2026, 4, 12, 0, 0, 0)

STAFF = [
    ("s.idrissi", "PC-FACT-07", "10.12.3.27"),
    ("k.amrani", "PC-FACT-03", "10.12.3.23"),
    ("n.tazi", "PC-URG-02", "10.12.5.12"),
    ("y.berrada", "PC-URG-05", "10.12.5.15"),
    ("h.alaoui", "PC-RADIO-01", "10.12.6.11"),
    ("m.chraibi", "PC-LABO-04", "10.12.7.14"),
    ("f.ennaji", "PC-PHARM-02", "10.12.8.12"),
    ("a.bennani", "PC-ADM-01", "10.12.2.11"),
    ("r.ouazzani", "PC-ADM-06", "10.12.2.16"),
    ("l.fassi", "PC-MAT-03", "10.12.9.13"),
    ("o.kettani", "PC-PED-01", "10.12.4.11"),
    ("z.lahlou", "PC-BLOC-02", "10.12.10.12"),
]
SERVERS = [("SRV-DC01", "10.12.0.5"), ("SRV-FILE01", "10.12.0.21"), ("SRV-DPI01", "10.12.0.40")]
ADMIN = "adm.informatique"


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _line(values) -> str:
    return ",".join(str(v) for v in values) + "\n"


def _email() -> bytes:
    lines = [
        "Return-Path: <bounce-7731@releve-amo.example>",
        "Delivered-To: s.idrissi@chr-ouednour.example",
        "Received: from mx1.chr-ouednour.example (mx1.chr-ouednour.example [10.12.0.30])"
        " by mail.chr-ouednour.example (Postfix) with ESMTP id 4F2A19C0B7"
        " for <s.idrissi@chr-ouednour.example>; Mon, 13 Apr 2026 09:47:14 +0100",
        "Received: from smtp.releve-amo.example (smtp.releve-amo.example [203.0.113.45])"
        " by mx1.chr-ouednour.example (Postfix) with ESMTPS id 9B31C7E4A2"
        " for <s.idrissi@chr-ouednour.example>; Mon, 13 Apr 2026 09:47:12 +0100",
        "Received: from cnss-amo.example (portail.cnss-amo.example [192.0.2.77])"
        " by smtp.releve-amo.example with ESMTPA id 77c1d2; Mon, 13 Apr 2026 08:47:03 +0000",
        "Authentication-Results: mx1.chr-ouednour.example;",
        "\tspf=pass smtp.mailfrom=bounce-7731@releve-amo.example;",
        "\tdkim=none;",
        "\tdmarc=fail (p=reject) header.from=cnss-amo.example",
        "Date: Mon, 13 Apr 2026 08:46:58 +0000",
        'From: "CNSS - Service AMO" <remboursements@cnss-amo.example>',
        "Reply-To: dossier.amo.2026@boite-rapide.example",
        "To: s.idrissi@chr-ouednour.example",
        "Subject: URGENT - Releve AMO mars 2026 : 37 dossiers en instance de rejet",
        "Message-ID: <20260413084658.77c1d2@smtp.releve-amo.example>",
        "MIME-Version: 1.0",
        "X-Mailer: PHPMailer 6.1.4",
        'Content-Type: multipart/alternative; boundary="b1_7731"',
        "",
        "--b1_7731",
        "Content-Type: text/plain; charset=UTF-8",
        "",
        "Madame, Monsieur,",
        "",
        "Suite a la campagne de controle des prestations AMO, 37 dossiers de votre",
        "etablissement sont en instance de rejet. Consultez le releve avant le",
        "15/04/2026 pour eviter la suspension des remboursements :",
        "https://portail.cnss-amo.example/releve",
        "",
        "Service AMO - Cellule des remboursements",
        "",
        "--b1_7731",
        "Content-Type: text/html; charset=UTF-8",
        "",
        "<p>Madame, Monsieur,</p>",
        "<p>Suite a la campagne de controle des prestations AMO, 37 dossiers de votre",
        "etablissement sont en instance de rejet.</p>",
        '<p><a href="https://portail-amo.example/releve/Releve_AMO_mars_2026.zip?id=chr-ouednour">https://portail.cnss-amo.example/releve</a></p>',
        "<p>Service AMO - Cellule des remboursements</p>",
        "",
        "--b1_7731--",
        "",
    ]
    return "\n".join(lines).encode()


def _windows(rng: random.Random) -> bytes:
    rows = []  # (time, channel, id, computer, target, subject, logon_type, ip, group, service, image)

    def add(t, eid, computer, target="", subject="", ltype="", ip="", group="", service="", image=""):
        channel = "System" if eid == 7045 else "Security"
        rows.append((t, channel, eid, computer, target, subject, ltype, ip, group, service, image))

    # three ordinary days: morning interactive logons, file-share access, a few typos
    for day in range(3):
        base = DAY0 + timedelta(days=day)
        for user, pc, ip in STAFF:
            if day == 2:  # 14 April: the systems are encrypted before the day shift
                break
            start = base + timedelta(hours=7, minutes=rng.randint(30, 110), seconds=rng.randint(0, 59))
            if rng.random() < 0.25:
                add(start - timedelta(seconds=40), 4625, pc, user, "", 2, "127.0.0.1")
            add(start, 4624, pc, user, "", 2, "127.0.0.1")
            for _ in range(rng.randint(1, 3)):
                t = start + timedelta(minutes=rng.randint(5, 480), seconds=rng.randint(0, 59))
                add(t, 4624, "SRV-FILE01", user, "", 3, ip)
            t = start + timedelta(minutes=rng.randint(10, 400), seconds=rng.randint(0, 59))
            add(t, 4624, "SRV-DPI01", user, "", 3, ip)
        for k in range(2 if day < 2 else 0):
            t = base + timedelta(hours=9 + 4 * k, minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))
            add(t, 4624, "SRV-DC01", ADMIN, "", 10, "10.12.2.10")
            add(t, 4672, "SRV-DC01", ADMIN)
        t = base + timedelta(hours=1, minutes=rng.randint(0, 20), seconds=rng.randint(0, 59))
        add(t, 4624, "SRV-FILE01", "svc-sauvegarde", "", 3, "10.12.0.60")
        add(t, 4672, "SRV-FILE01", "svc-sauvegarde")
    # ordinary administration
    add(
        DAY0 + timedelta(hours=10, minutes=12, seconds=41),
        7045,
        "PC-URG-02",
        service="GLPI-Agent",
        image="C:\\Program Files\\GLPI-Agent\\perl\\bin\\glpi-agent.exe",
    )
    add(DAY0 + timedelta(days=1, hours=10, minutes=15, seconds=3), 4720, "SRV-DC01", "i.benali", ADMIN)
    add(
        DAY0 + timedelta(days=1, hours=10, minutes=15, seconds=49),
        4732,
        "SRV-DC01",
        "i.benali",
        ADMIN,
        group="Utilisateurs-DPI",
    )
    # the attack, 13 April evening to 14 April night, from the billing workstation
    t = datetime(2026, 4, 13, 22, 18, 2)
    targets = [
        "a.bennani",
        "administrateur",
        "k.amrani",
        "adm.informatique",
        "n.tazi",
        "svc-sauvegarde",
        "h.alaoui",
        "scanner",
        "m.chraibi",
        "svc-sql",
        "f.ennaji",
        "invite",
    ]
    for rnd in range(3):
        for user in targets:
            if rnd == 2 and user == "svc-sauvegarde":
                break
            add(t, 4625, "SRV-FILE01", user, "", 3, "10.12.3.27")
            t += timedelta(seconds=rng.randint(6, 14))
        if rnd == 2:
            break
        t += timedelta(seconds=rng.randint(120, 200))
    ok = datetime(2026, 4, 13, 22, 31, 5)
    add(ok, 4624, "SRV-FILE01", "svc-sauvegarde", "", 3, "10.12.3.27")
    add(ok, 4672, "SRV-FILE01", "svc-sauvegarde")
    rdp = datetime(2026, 4, 13, 22, 40, 18)
    add(rdp, 4624, "SRV-DC01", "svc-sauvegarde", "", 10, "10.12.3.27")
    add(rdp, 4672, "SRV-DC01", "svc-sauvegarde")
    add(datetime(2026, 4, 13, 22, 44, 2), 4720, "SRV-DC01", "adm.support", "svc-sauvegarde")
    add(datetime(2026, 4, 13, 22, 45, 10), 4732, "SRV-DC01", "adm.support", "svc-sauvegarde", group="Administrateurs")
    add(
        datetime(2026, 4, 13, 22, 52, 37),
        7045,
        "SRV-DC01",
        service="MsUpdateHealthSvc",
        image="C:\\ProgramData\\Microsoft\\Health\\uhsvc.exe",
    )
    add(datetime(2026, 4, 14, 0, 58, 44), 4624, "SRV-FILE01", "adm.support", "", 3, "10.12.3.27")
    add(datetime(2026, 4, 14, 0, 58, 44), 4672, "SRV-FILE01", "adm.support")
    add(datetime(2026, 4, 14, 2, 53, 9), 4624, "SRV-FILE01", "adm.support", "", 10, "10.12.250.14")
    add(datetime(2026, 4, 14, 2, 53, 9), 4672, "SRV-FILE01", "adm.support")
    add(datetime(2026, 4, 14, 3, 1, 27), 4624, "SRV-DPI01", "adm.support", "", 3, "10.12.0.21")
    add(datetime(2026, 4, 14, 3, 1, 27), 4672, "SRV-DPI01", "adm.support")
    add(datetime(2026, 4, 14, 3, 28, 51), 7045, "SRV-FILE01", service="PSEXESVC", image="C:\\Windows\\PSEXESVC.exe")
    add(datetime(2026, 4, 14, 3, 30, 2), 7045, "SRV-DPI01", service="PSEXESVC", image="C:\\Windows\\PSEXESVC.exe")
    add(datetime(2026, 4, 14, 3, 41, 9), 1102, "SRV-FILE01", "", "adm.support")
    add(datetime(2026, 4, 14, 3, 42, 30), 1102, "SRV-DPI01", "", "adm.support")
    rows.sort(key=lambda r: (r[0], r[3], r[2]))
    header = [
        "TimeCreated",
        "Channel",
        "EventID",
        "Computer",
        "TargetUserName",
        "SubjectUserName",
        "LogonType",
        "IpAddress",
        "GroupName",
        "ServiceName",
        "ImagePath",
    ]
    return ("".join([_line(header)] + [_line([_iso(r[0]), *r[1:]]) for r in rows])).encode()


def _network(rng: random.Random) -> tuple[bytes, bytes]:
    conn, dns = [], []
    uid = [0]

    def cid() -> str:
        uid[0] += 1
        return f"C{uid[0]:05d}"

    sites = [
        ("cdn.editeur-dpi.example", "192.0.2.10"),
        ("portail.cnss-amo.example", "192.0.2.77"),
        ("mises-a-jour.os.example", "192.0.2.15"),
        ("messagerie.sante.example", "192.0.2.33"),
        ("labo-reference.example", "192.0.2.41"),
        ("backup.hebergeur-sante.example", "192.0.2.80"),
    ]
    hosts = [ip for _, _, ip in STAFF] + ["10.12.0.8", "10.12.0.40"]
    start = datetime(2026, 4, 13, 20, 0, 0)
    # background: lookups and outbound web from the proxy, 13 April 20:00 to 14 April 06:00
    t = start
    while t < datetime(2026, 4, 14, 6, 0, 0):
        name, ip = sites[rng.randrange(5)]
        src = rng.choice(hosts)
        dns.append((t, cid(), src, name, "A", "NOERROR", ip))
        t2 = t + timedelta(seconds=1)
        conn.append(
            (
                t2,
                cid(),
                "10.12.0.8",
                rng.randint(40000, 60999),
                ip,
                443,
                "tcp",
                "ssl",
                f"{rng.uniform(0.2, 30):.2f}",
                rng.randint(600, 9000),
                rng.randint(2000, 400000),
                "SF",
            )
        )
        t += timedelta(seconds=rng.randint(90, 420))
    # the nightly off-site backup, legitimate: SRV-FILE01 to the hosting provider
    t = datetime(2026, 4, 14, 0, 30, 0)
    dns.append((t, cid(), "10.12.0.21", "backup.hebergeur-sante.example", "A", "NOERROR", "192.0.2.80"))
    for k in range(6):
        conn.append(
            (
                t + timedelta(minutes=10 * k, seconds=2),
                cid(),
                "10.12.0.21",
                rng.randint(40000, 60999),
                "192.0.2.80",
                443,
                "tcp",
                "ssl",
                f"{rng.uniform(300, 540):.2f}",
                rng.randint(180_000_000, 260_000_000),
                rng.randint(40000, 90000),
                "SF",
            )
        )
    # the exfiltration: direct HTTPS from SRV-FILE01, bypassing the proxy
    t = datetime(2026, 4, 14, 1, 9, 40)
    dns.append((t, cid(), "10.12.0.21", "sync-cloudbox.example", "A", "NOERROR", "198.51.100.77"))
    for k in range(14):
        conn.append(
            (
                t + timedelta(minutes=6 * k, seconds=5 + k),
                cid(),
                "10.12.0.21",
                rng.randint(40000, 60999),
                "198.51.100.77",
                443,
                "tcp",
                "ssl",
                f"{rng.uniform(280, 350):.2f}",
                rng.randint(300_000_000, 420_000_000),
                rng.randint(20000, 60000),
                "SF",
            )
        )
    # lookups that fail (typos, retired hosts) and the beacon's name resolved by the proxy
    for k in range(8):
        t = datetime(2026, 4, 13, 20, 30, 0) + timedelta(minutes=67 * k)
        dns.append((t, cid(), rng.choice(hosts), f"ancien-serveur{k}.chr-ouednour.example", "A", "NXDOMAIN", ""))
    for k in range(20):
        t = datetime(2026, 4, 13, 20, 3, 0) + timedelta(minutes=29 * k, seconds=k)
        dns.append((t, cid(), "10.12.0.8", "portail-amo.example", "A", "NOERROR", "198.51.100.14"))
    for k in range(120):
        t = datetime(2026, 4, 13, 20, 3, 0) + timedelta(minutes=5 * k, seconds=rng.randint(0, 9))
        conn.append(
            (
                t + timedelta(seconds=1),
                cid(),
                "10.12.0.8",
                rng.randint(40000, 60999),
                "198.51.100.14",
                443,
                "tcp",
                "ssl",
                f"{rng.uniform(0.5, 2.5):.2f}",
                rng.randint(900, 1500),
                rng.randint(400, 1200),
                "SF",
            )
        )
    conn.sort(key=lambda r: (r[0], r[1]))
    dns.sort(key=lambda r: (r[0], r[1]))
    ch = [
        "ts",
        "uid",
        "id_orig_h",
        "id_orig_p",
        "id_resp_h",
        "id_resp_p",
        "proto",
        "service",
        "duration",
        "orig_bytes",
        "resp_bytes",
        "conn_state",
    ]
    dh = ["ts", "uid", "id_orig_h", "query", "qtype", "rcode", "answers"]
    conn_b = "".join([_line(ch)] + [_line([_iso(r[0]), *r[1:]]) for r in conn]).encode()
    dns_b = "".join([_line(dh)] + [_line([_iso(r[0]), *r[1:]]) for r in dns]).encode()
    return conn_b, dns_b


PROXY_IPS = {
    "cdn.editeur-dpi.example": "192.0.2.10",
    "portail.cnss-amo.example": "192.0.2.77",
    "messagerie.sante.example": "192.0.2.33",
    "labo-reference.example": "192.0.2.41",
    "portail-amo.example": "198.51.100.14",
}


def _proxy(rng: random.Random) -> bytes:
    """Squid-like native format: epoch.ms elapsed client code/status bytes method url user hierarchy type."""
    out = []
    sites = [
        "https://cdn.editeur-dpi.example/app/",
        "https://portail.cnss-amo.example/espace-pro/",
        "https://messagerie.sante.example/inbox/",
        "https://labo-reference.example/resultats/",
    ]
    t = datetime(2026, 4, 13, 8, 0, 0)
    while t < datetime(2026, 4, 13, 12, 0, 0):
        user, _, ip = rng.choice(STAFF)
        out.append(
            (
                t,
                rng.randint(40, 900),
                ip,
                "TCP_MISS/200",
                rng.randint(800, 60000),
                "GET",
                rng.choice(sites) + f"p{rng.randint(1, 40)}",
                user,
                "text/html",
            )
        )
        t += timedelta(seconds=rng.randint(20, 140))
    click = datetime(2026, 4, 13, 9, 2, 31)
    out.append(
        (
            click,
            412,
            "10.12.3.27",
            "TCP_MISS/200",
            2318,
            "GET",
            "https://portail-amo.example/releve/Releve_AMO_mars_2026.zip?id=chr-ouednour",
            "s.idrissi",
            "application/zip",
        )
    )
    out.append(
        (
            click + timedelta(seconds=48),
            233,
            "10.12.3.27",
            "TCP_MISS/200",
            184320,
            "GET",
            "https://portail-amo.example/releve/AMO_viewer.dat",
            "s.idrissi",
            "application/octet-stream",
        )
    )
    t = click + timedelta(minutes=2, seconds=10)
    while t < datetime(2026, 4, 13, 12, 0, 0):
        out.append(
            (
                t,
                rng.randint(80, 300),
                "10.12.3.27",
                "TCP_TUNNEL/200",
                rng.randint(900, 1500),
                "CONNECT",
                "portail-amo.example:443",
                "s.idrissi",
                "-",
            )
        )
        t += timedelta(seconds=300 + rng.randint(0, 9))
    out.append(
        (
            datetime(2026, 4, 13, 9, 40, 12),
            388,
            "10.12.3.23",
            "TCP_MISS/200",
            2318,
            "GET",
            "https://portail-amo.example/releve/Releve_AMO_mars_2026.zip?id=chr-ouednour",
            "k.amrani",
            "application/zip",
        )
    )
    out.sort(key=lambda r: (r[0], r[2]))
    epoch = datetime(1970, 1, 1)
    lines = []
    for t, el, ip, code, size, method, url, user, ctype in out:
        stamp = int((t - epoch).total_seconds())
        host = url.split("//")[-1].split("/")[0].split(":")[0]
        hier = "HIER_NONE/-" if code.startswith("TCP_DENIED") else "HIER_DIRECT/" + PROXY_IPS[host]
        lines.append(
            f"{stamp}.{rng.randint(0, 999):03d} {el:6d} {ip} {code} {size} {method} {url} {user} {hier} {ctype}\n"
        )
    return "".join(lines).encode()


def _vpn(rng: random.Random) -> bytes:
    remote = [
        ("dr.elmansouri", "198.51.100.150"),
        ("dr.sqalli", "192.0.2.140"),
        ("ing.biomed", "203.0.113.90"),
        ("adm.informatique", "192.0.2.120"),
    ]
    events = []
    for day in range(2):
        base = DAY0 + timedelta(days=day)
        for user, ip in remote:
            if rng.random() < 0.9:
                t = base + timedelta(hours=rng.randint(18, 22), minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))
                if rng.random() < 0.3:
                    events.append((t - timedelta(seconds=30), user, ip, "failure", "bad-password", ""))
                events.append((t, user, ip, "success", "", f"10.12.250.{rng.randint(20, 60)}"))
    for k, user in enumerate(["admin", "vpn", "test"]):
        events.append((datetime(2026, 4, 14, 2, 47, 10 + 9 * k), user, "203.0.113.200", "failure", "unknown-user", ""))
    events.append((datetime(2026, 4, 14, 2, 50, 31), "adm.support", "203.0.113.200", "success", "", "10.12.250.14"))
    events.sort()
    lines = []
    for t, user, ip, result, reason, assigned in events:
        stamp = t.strftime("%b %d %H:%M:%S")
        msg = f"{stamp} vpn-gw01 sslvpn[2211]: auth user={user} src={ip} result={result}"
        msg += f" reason={reason}" if reason else f" assigned_ip={assigned} mfa=none"
        lines.append(msg + "\n")
    return "".join(lines).encode()


def files() -> dict[str, bytes]:
    conn, dns = _network(random.Random(10301))
    return {
        C + "phishing_email.txt": _email(),
        C + "windows_security.csv": _windows(random.Random(10302)),
        C + "conn.csv": conn,
        C + "dns.csv": dns,
        C + "proxy.log": _proxy(random.Random(10303)),
        C + "vpn.log": _vpn(random.Random(10304)),
    }
