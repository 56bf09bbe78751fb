"""OneRoster CSV packages for tests, demos and a university's first try: valid ones (1.2.1 bulk and
delta, 1.1, BOM + CRLF, a large one) and one invalid package per rule the import enforces.

    .venv/bin/python scripts/oneroster_packages.py OUTDIR    # writes OUTDIR/bulk.zip, ...

Tests import the builders (`from scripts.oneroster_packages import build_packages, big_package`):
nothing here needs Django. The API is kept stable:

- `build_packages() -> dict[str, bytes]`: {"bulk.zip": ..., "delta.zip": ..., "v11.zip": ...,
  "bom_crlf.zip": ..., "invalid_<rule>.zip": ...};
- `big_package(users=5000, enrollments=12000) -> bytes`: a valid bulk package of that size;
- `COURSE_CODES`: the course codes the packages' courses carry (create courses with these codes
  for the classes to map).

The roster: a district (`dist-1`) with two schools (`sch-1`, `sch-2`); a school year (`sy-2027`)
with two terms (`term-1`, `term-2`); courses `crs-ds` (courseCode ds-101) and `crs-cy` (cy-101),
one class each (`cls-ds-a` in term-1 at sch-1, `cls-cy-a` in term-2 at sch-2); students
`stu-0001`..`stu-0004` and teachers `tch-0001`, `tch-0002`, each with a primary role and
enrollments (students 1-3 in cls-ds-a, students 2-4 in cls-cy-a, one teacher per class).

delta.zip, meant to follow bulk.zip: stu-0004 is `tobedeleted`, a new enrollment puts stu-0001
into cls-cy-a (a class delta.zip does not carry: only bulk.zip does), and cls-ds-a is renamed."""

import csv
import io
import stat
import struct
import sys
import zipfile
from pathlib import Path

HEADERS_12 = {
    "orgs": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "academicSessions": "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
    "courses": "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,"
    "subjects,subjectCodes",
    "classes": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
    "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    "users": "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,"
    "identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,"
    "preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns",
    "roles": "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,"
    "userProfileSourcedId",
    "enrollments": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
    "beginDate,endDate",
}
USERS_11 = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
    "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
)
# The 13 files a OneRoster 1.1 manifest lists, and the 1.2 ones.
FILES_11 = [
    "academicSessions", "categories", "classes", "classResources", "courses", "courseResources", "demographics",
    "enrollments", "lineItems", "orgs", "resources", "results", "users",
]  # fmt: skip
FILES_12 = [*FILES_11, "roles", "userProfiles", "userResources", "lineItemLearningObjectiveIds",
            "lineItemScoreScales", "resultLearningObjectiveIds", "resultScoreScales", "scoreScales"]  # fmt: skip
COURSE_CODES = ("ds-101", "cy-101")
STAMP = "2026-11-02T08:30:00.000Z"  # a delta's dateLastModified
ROSTER = ("orgs", "academicSessions", "courses", "classes", "users", "roles", "enrollments")


def _row(file: str, **values) -> list[str]:
    """A row of `file`'s columns, blank but for `values`."""
    return [values.get(col, "") for col in HEADERS_12[file].split(",")]


def _user(sid: str, given: str, family: str, school: str, **more) -> list[str]:
    return _row(
        "users", sourcedId=sid, enabledUser="true", username=sid, givenName=given, familyName=family,
        email=f"{sid}@univ.ma", primaryOrgSourcedId=school, **more,
    )  # fmt: skip


def bulk_files() -> dict[str, list[list[str]]]:
    """The rows of bulk.zip, by file (without headers)."""
    students = [("stu-0001", "Amina", "Benali"), ("stu-0002", "Youssef", "El Idrissi"),
                ("stu-0003", "René", "Martin"), ("stu-0004", "Salma", "Ouazzani")]  # fmt: skip
    teachers = [("tch-0001", "Karim", "Alaoui", "sch-1"), ("tch-0002", "Nadia", "Tazi", "sch-2")]
    files = {
        "orgs": [
            _row("orgs", sourcedId="dist-1", name="Université de Rabat", type="district", identifier="UR"),
            _row("orgs", sourcedId="sch-1", name="Faculté de médecine", type="school", identifier="FM",
                 parentSourcedId="dist-1"),
            _row("orgs", sourcedId="sch-2", name="École d'ingénieurs, informatique", type="school", identifier="EI",
                 parentSourcedId="dist-1"),
        ],
        "academicSessions": [
            _row("academicSessions", sourcedId="sy-2027", title="2026-2027", type="schoolYear",
                 startDate="2026-09-01", endDate="2027-06-30", schoolYear="2027"),
            _row("academicSessions", sourcedId="term-1", title="Automne 2026", type="term", startDate="2026-09-01",
                 endDate="2027-01-31", parentSourcedId="sy-2027", schoolYear="2027"),
            _row("academicSessions", sourcedId="term-2", title="Printemps 2027", type="term", startDate="2027-02-01",
                 endDate="2027-06-30", parentSourcedId="sy-2027", schoolYear="2027"),
        ],
        "courses": [
            _row("courses", sourcedId="crs-ds", schoolYearSourcedId="sy-2027", title="Data science",
                 courseCode="ds-101", orgSourcedId="sch-1"),
            _row("courses", sourcedId="crs-cy", schoolYearSourcedId="sy-2027", title="Cybersécurité",
                 courseCode="cy-101", orgSourcedId="sch-2"),
        ],
        "classes": [
            _row("classes", sourcedId="cls-ds-a", title="Data science A", courseSourcedId="crs-ds",
                 classType="scheduled", schoolSourcedId="sch-1", termSourcedIds="term-1"),
            _row("classes", sourcedId="cls-cy-a", title="Cybersécurité A", courseSourcedId="crs-cy",
                 classType="scheduled", schoolSourcedId="sch-2", termSourcedIds="term-2"),
        ],
        "users": [_user(sid, g, f, "sch-1") for sid, g, f in students]
        + [_user(sid, g, f, school) for sid, g, f, school in teachers],
        "roles": [
            _row("roles", sourcedId=f"role-{sid}", userSourcedId=sid, roleType="primary", role="student",
                 orgSourcedId="sch-1", beginDate="2026-09-01")
            for sid, _g, _f in students
        ]
        + [
            _row("roles", sourcedId=f"role-{sid}", userSourcedId=sid, roleType="primary", role="teacher",
                 orgSourcedId=school)
            for sid, _g, _f, school in teachers
        ],
        "enrollments": [],
    }  # fmt: skip
    for cls, school, members, teacher in (
        ("cls-ds-a", "sch-1", ["stu-0001", "stu-0002", "stu-0003"], "tch-0001"),
        ("cls-cy-a", "sch-2", ["stu-0002", "stu-0003", "stu-0004"], "tch-0002"),
    ):
        for sid in members:
            files["enrollments"].append(
                _row("enrollments", sourcedId=f"enr-{cls}-{sid}", classSourcedId=cls, schoolSourcedId=school,
                     userSourcedId=sid, role="student", beginDate="2026-09-01", endDate="2027-06-30")
            )  # fmt: skip
        files["enrollments"].append(
            _row("enrollments", sourcedId=f"enr-{cls}-{teacher}", classSourcedId=cls, schoolSourcedId=school,
                 userSourcedId=teacher, role="teacher", primary="true")
        )  # fmt: skip
    return files


def _csv(header: str, rows: list[list[str]], *, newline: str = "\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header.split(","))
    writer.writerows(rows)
    return out.getvalue()


def manifest(modes: dict[str, str], *, version: str = "1.2", newline: str = "\n") -> str:
    """manifest.csv: the versions, then a file.<name> row for every file of that version's list."""
    names = FILES_12 if version == "1.2" else FILES_11
    rows = [["manifest.version", "1.0"], ["oneroster.version", version]]
    rows += [[f"file.{n}", modes.get(n, "absent")] for n in names]
    rows += [["source.systemName", "Kafaat test packages"], ["source.systemCode", "kafaat"]]
    return _csv("propertyName,value", rows, newline=newline)


def zip_package(
    files: dict,
    *,
    modes: dict | None = None,
    version: str = "1.2",
    bom: bool = False,
    newline: str = "\n",
    headers: dict | None = None,
    raw: dict | None = None,
) -> bytes:
    """A package from rows by file (`files`), declared `modes` (default: bulk for each file given).
    `headers` replaces a file's header; `raw` adds entries as they are (name -> bytes)."""  # fmt: skip
    modes = modes if modes is not None else dict.fromkeys(files, "bulk")
    prefix = "\ufeff" if bom else ""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.csv", (prefix + manifest(modes, version=version, newline=newline)).encode())
        for name, rows in files.items():
            header = (headers or {}).get(name) or (
                USERS_11 if name == "users" and version == "1.1" else HEADERS_12[name]
            )
            zf.writestr(f"{name}.csv", (prefix + _csv(header, rows, newline=newline)).encode())
        for name, data in (raw or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def _delta(rows: list[list[str]], status: str = "active") -> list[list[str]]:
    """Rows as a delta file carries them: status and dateLastModified filled."""
    return [[r[0], status, STAMP, *r[3:]] for r in rows]


def delta_files() -> dict[str, list[list[str]]]:
    bulk = bulk_files()
    users = {r[0]: r for r in bulk["users"]}
    classes = {r[0]: r for r in bulk["classes"]}
    renamed = list(classes["cls-ds-a"])
    renamed[3] = "Data science A (renamed)"
    new_enrollment = _row("enrollments", sourcedId="enr-cls-cy-a-stu-0001", classSourcedId="cls-cy-a",
                          schoolSourcedId="sch-2", userSourcedId="stu-0001", role="student")  # fmt: skip
    return {
        "classes": _delta([renamed]),
        "users": _delta([users["stu-0004"]], "tobedeleted"),
        "enrollments": _delta([new_enrollment]),
    }


def v11_package() -> bytes:
    """The bulk roster in OneRoster 1.1's layout: no roles.csv; users carry orgSourcedIds and role."""
    bulk = bulk_files()
    roles = {r[3]: r for r in bulk["roles"]}  # userSourcedId -> role row
    cols = HEADERS_12["users"].split(",")
    users = []
    for r in bulk["users"]:
        v = dict(zip(cols, r, strict=True))
        v["orgSourcedIds"], v["role"] = roles[v["sourcedId"]][8], roles[v["sourcedId"]][5]
        users.append([v.get(c, "") for c in USERS_11.split(",")])
    files = {k: v for k, v in bulk.items() if k != "roles"}
    files["users"] = users
    return zip_package(files, version="1.1")


def _set(rows: list[list[str]], index: int, name: str, column: str, value: str) -> list[list[str]]:
    rows = [list(r) for r in rows]
    rows[index][HEADERS_12[name].split(",").index(column)] = value
    return rows


def _with(name: str, rows: list[list[str]]) -> dict:
    return {**bulk_files(), name: rows}


def _replace_bytes(data: bytes, entry: str, old: bytes, new: bytes) -> bytes:
    """Rebuild the zip with `old` replaced by `new` in `entry`'s bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            body = src.read(info)
            zf.writestr(info.filename, body.replace(old, new) if info.filename == entry else body)
    return buf.getvalue()


def _symlink_package() -> bytes:
    buf = io.BytesIO(zip_package(bulk_files()))
    with zipfile.ZipFile(buf, "a") as zf:
        link = zipfile.ZipInfo("roster-link.csv")
        link.create_system = 3  # Unix, so external_attr's high bits are a st_mode
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    return buf.getvalue()


BOMB_BYTES = 150 * 1024 * 1024  # inflated; a little over 150 KB deflated
BOMB_CLAIMED = 1000  # what its headers say


def _bomb_package() -> bytes:
    """A bulk package whose enrollments.csv inflates to BOMB_BYTES (blank lines after the header)
    while its local and central headers claim BOMB_CLAIMED bytes."""
    files = bulk_files()
    files["enrollments"] = []
    src = zipfile.ZipFile(io.BytesIO(zip_package(files)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            if info.filename != "enrollments.csv":
                zf.writestr(info.filename, src.read(info))
        with zf.open("enrollments.csv", "w") as fh:
            fh.write((HEADERS_12["enrollments"] + "\r\n").encode())
            chunk = b"\r\n" * (1024 * 1024)
            for _ in range(BOMB_BYTES // len(chunk)):
                fh.write(chunk)
    return lie_about_size(out.getvalue(), "enrollments.csv", BOMB_CLAIMED)


def lie_about_size(data: bytes, entry: str, size: int) -> bytes:
    """Rewrite the local and central headers of `entry` to claim `size` inflated bytes."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(entry)
    struct.pack_into("<I", out, info.header_offset + 22, size)  # local file header
    central = out.index(b"PK\x01\x02")
    while True:  # the central directory record naming this entry
        n = struct.unpack_from("<H", out, central + 28)[0]
        if bytes(out[central + 46 : central + 46 + n]) == entry.encode():
            break
        central = out.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", out, central + 24, size)
    return bytes(out)


def invalid_packages() -> dict[str, bytes]:
    """One package per rule, each otherwise valid bulk.zip (tests pin where each is refused)."""
    bulk = bulk_files()
    users_cols = HEADERS_12["users"].split(",")
    swapped = ",".join([users_cols[0], users_cols[2], users_cols[1], *users_cols[3:]])
    long_field = _set(bulk["users"], 1, "users", "familyName", "x" * 5000)
    huge_field = _set(bulk["users"], 1, "users", "middleName", ("y" * 1000 + "\n") * 200)  # 200 K chars in quotes
    bad_utf8 = _replace_bytes(zip_package(bulk), "users.csv", "René".encode(), b"Ren\xe9")
    return {
        "invalid_header_order.zip": zip_package(bulk, headers={"users": swapped}),
        "invalid_missing_required.zip": zip_package(_with("users", _set(bulk["users"], 1, "users", "username", ""))),
        "invalid_sourcedid.zip": zip_package(_with("users", _set(bulk["users"], 1, "users", "sourcedId", "stu 0002"))),
        "invalid_duplicate_sourcedid.zip": zip_package(_with("users", [*bulk["users"], bulk["users"][0]])),
        "invalid_date.zip": zip_package(
            _with("academicSessions", _set(bulk["academicSessions"], 1, "academicSessions", "endDate", "2027-02-30"))
        ),
        "invalid_datetime.zip": zip_package(
            {"users": _set(_delta(bulk["users"][:1]), 0, "users", "dateLastModified", "2026-11-02T08:30:00Z")},
            modes={"users": "delta", "enrollments": "absent"},
        ),
        "invalid_vocabulary.zip": zip_package(
            _with("enrollments", _set(bulk["enrollments"], 0, "enrollments", "role", "pupil"))
        ),
        "invalid_status_in_bulk.zip": zip_package(
            _with("classes", _set(bulk["classes"], 0, "classes", "status", "active"))
        ),
        "invalid_utf8.zip": bad_utf8,
        "invalid_long_field.zip": zip_package(_with("users", long_field)),
        "invalid_huge_field.zip": zip_package(_with("users", huge_field)),
        "invalid_dangling_reference.zip": zip_package(
            _with("enrollments", _set(bulk["enrollments"], 0, "enrollments", "classSourcedId", "cls-nowhere"))
        ),
        "invalid_zip_slip.zip": zip_package(bulk, raw={"../x.csv": b"sourcedId\n"}),
        "invalid_symlink.zip": _symlink_package(),
        "invalid_zip_bomb.zip": _bomb_package(),
    }


def build_packages() -> dict[str, bytes]:
    """Every package, by file name."""
    return {
        "bulk.zip": zip_package(bulk_files()),
        "delta.zip": zip_package(delta_files(), modes={"classes": "delta", "users": "delta", "enrollments": "delta"}),
        "v11.zip": v11_package(),
        "bom_crlf.zip": zip_package(bulk_files(), bom=True, newline="\r\n"),
        **invalid_packages(),
    }


def big_package(users: int = 5000, enrollments: int = 12000) -> bytes:
    """A valid bulk package: bulk.zip's orgs, sessions and courses, `users` students
    (`big-00001`...) each with a role, and `enrollments` student enrollments: each student once per
    class, over as many classes as that takes (`cls-big-1`..., alternately in crs-ds at sch-1 and
    crs-cy at sch-2)."""
    files = bulk_files()
    sids = [f"big-{i:05d}" for i in range(1, users + 1)]
    files["users"] = [_user(sid, f"Given{i}", f"Family{i}", "sch-1") for i, sid in enumerate(sids, 1)]
    files["roles"] = [
        _row("roles", sourcedId=f"role-{sid}", userSourcedId=sid, roleType="primary", role="student",
             orgSourcedId="sch-1")
        for sid in sids
    ]  # fmt: skip
    n_classes = max(1, -(-enrollments // max(users, 1)))
    classes = [
        (f"cls-big-{c}", ("crs-ds", "crs-cy")[c % 2], ("sch-1", "sch-2")[c % 2]) for c in range(1, n_classes + 1)
    ]
    files["classes"] = [
        _row("classes", sourcedId=sid, title=f"Group {sid}", courseSourcedId=course, classType="scheduled",
             schoolSourcedId=school, termSourcedIds="term-1")
        for sid, course, school in classes
    ]  # fmt: skip
    files["enrollments"] = [
        _row("enrollments", sourcedId=f"enr-{k}", classSourcedId=classes[k // users][0],
             schoolSourcedId=classes[k // users][2], userSourcedId=sids[k % users], role="student")
        for k in range(enrollments)
    ]  # fmt: skip
    return zip_package(files)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write(f"usage: {argv[0]} OUTDIR\n")
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, data in build_packages().items():
        (out / name).write_bytes(data)
        sys.stdout.write(f"{out / name}: {len(data)} bytes\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
