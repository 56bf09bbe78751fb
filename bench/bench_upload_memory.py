"""Peak memory of reading hostile and large uploads, each case in a fresh subprocess: the growth
of its VmHWM (peak resident set, /proc/self/status) over the read alone, and its time.
- OneRoster: a 6 KB zip of 2 million bad lines; a valid package of 500,000 users (55 MB) of whom
  10,000 are enrolled (the sync's batch limit).
- Course archive: the 40 MB-of-YAML zip (refused by the size check); a valid 18 MB archive.
Reading only (no database): that is where an upload's memory goes; the sync after it is bounded
by INTEGRATIONS_SYNC_MAX_ROWS."""

import io
import json
import subprocess
import sys
import tempfile
import zipfile

import django

django.setup()

from bench.common import ROOT, figure  # noqa: E402

CASE = r"""
import io, json, sys, time
import django
django.setup()

def hwm():
    return int([line for line in open("/proc/self/status") if line.startswith("VmHWM")][0].split()[1])

kind, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()  # built by another process: its peak is not ours
before = hwm()
start = time.perf_counter()
outcome = ""
if kind == "oneroster":
    from integrations.services.oneroster import read_package
    pkg = read_package(io.BytesIO(data))
    outcome = f"{pkg.errors_total} errors, {len(pkg.errors)} kept; {len(pkg.files.get('users', {}))} users kept"
else:
    from courses import archive
    try:
        archive.archive_scan(data)
        parsed = archive.archive_read(data)
        outcome = f"{sum(len(m['lessons']) for m in parsed['modules'])} lessons read"
    except archive.ArchiveError as exc:
        outcome = "refused: " + exc.message
seconds = time.perf_counter() - start
print(json.dumps({"zip_bytes": len(data), "growth_mb": (hwm() - before) / 1024,
                  "seconds": seconds, "outcome": outcome}))
"""


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


def build(name: str) -> bytes:
    from tests.integrations.test_oneroster import MANIFEST_12, H

    manifest = MANIFEST_12 + "".join(f"file.{n},bulk\n" for n in ("orgs", "classes", "users", "enrollments"))
    if name == "bad-lines":
        return _zip({"manifest.csv": manifest, "users.csv": H["users"] + "\r\n" + "x\r\n" * 2_000_000,
                     "enrollments.csv": H["enrollments"] + "\r\n", "orgs.csv": H["orgs"] + "\r\n",
                     "classes.csv": H["classes"] + "\r\n"})  # fmt: skip
    if name == "valid-large":
        users = [f"u{i:07d},,,true,u{i:07d},,Given{i},Family{i},,,u{i:07d}@univ.example.ma,,,,,,,,,,,"
                 for i in range(500_000)]  # fmt: skip
        enrollments = [f"e{i},,,cls1,sch1,u{i * 50:07d},student,,," for i in range(10_000)]
        return _zip({
            "manifest.csv": manifest,
            "orgs.csv": H["orgs"] + "\r\nsch1,,,Faculty,school,F,\r\n",
            "classes.csv": H["classes"] + "\r\ncls1,,,Class,,crs1,ds-101,scheduled,,sch1,t1,,,\r\n",
            "users.csv": "\r\n".join([H["users"], *users]) + "\r\n",
            "enrollments.csv": "\r\n".join([H["enrollments"], *enrollments]) + "\r\n",
        })  # fmt: skip
    head = "format: kafaat-course/1\ncode: big-1\ntitle: Big\nlanguage: en\nmodules:\n- title: M\n"
    if name == "yaml-bomb":
        return _zip({"course.yaml": head + "  lessons: []\npadding:\n" + "- a\n" * 10_000_000})
    if name == "archive-large":
        lessons = {f"modules/01-m/{i:03d}.md": f"Lesson {i}\n\n" + "Plain text about health data. " * 2000
                   for i in range(300)}  # fmt: skip
        outline = "".join(f"  - {{title: L{i}, file: {entry}}}\n" for i, entry in enumerate(lessons))
        return _zip({"course.yaml": head + "  lessons:\n" + outline, **lessons})
    raise ValueError(name)


def main() -> None:
    for kind, name in (("oneroster", "bad-lines"), ("oneroster", "valid-large"), ("archive", "yaml-bomb"),
                       ("archive", "archive-large")):  # fmt: skip
        with tempfile.NamedTemporaryFile(suffix=".zip") as f:
            f.write(build(name))
            f.flush()
            out = subprocess.run(
                [sys.executable, "-c", CASE, kind, f.name], cwd=ROOT, capture_output=True, text=True, check=True
            )
        r = json.loads(out.stdout)
        figure(
            f"{kind} {name}: zip {r['zip_bytes'] / 1024:.0f} KB",
            f"peak RSS +{r['growth_mb']:.0f} MB, {r['seconds']:.1f} s ({r['outcome'][:90]})",
        )


if __name__ == "__main__":
    main()
