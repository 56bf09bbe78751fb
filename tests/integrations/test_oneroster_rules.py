"""OneRoster 1.2.1 CSV rules (values, dates, vocabularies, bulk/delta, UTF-8, field sizes) and the
zip's safety (entry paths, symlinks, lying headers, inflated totals), read by `read_package` from
packages built in memory by scripts/oneroster_packages.py."""

import io
import re
import tracemalloc
import zipfile

import pytest
from django.utils import translation

from integrations.services import oneroster
from integrations.services.oneroster import (
    COLUMNS_11,
    COLUMNS_12,
    OneRosterRefused,
    PackageTooLarge,
    oneroster_import,
    read_package,
)
from scripts import oneroster_packages as gen

PACKAGES = gen.build_packages()


def read(data: bytes) -> oneroster.Package:
    return read_package(io.BytesIO(data), size=len(data))


def where(pkg) -> set:
    return {(e["file"], e["line"], e["column"], e["code"]) for e in pkg.errors}


def users_with(**values) -> bytes:
    """bulk.zip whose second user (users.csv line 3) has these values."""
    rows = gen.bulk_files()["users"]
    for col, value in values.items():
        rows = gen._set(rows, 1, "users", col, value)
    return gen.zip_package({**gen.bulk_files(), "users": rows})


def with_rows(name: str, index: int, **values) -> bytes:
    rows = gen.bulk_files()[name]
    for col, value in values.items():
        rows = gen._set(rows, index, name, col, value)
    return gen.zip_package({**gen.bulk_files(), name: rows})


def delta(name: str, rows: list[list[str]]) -> bytes:
    return gen.zip_package({name: rows}, modes={name: "delta"})


def test_the_generators_headers_are_the_services():
    assert {k: ",".join(v.split(",")) for k, v in gen.HEADERS_12.items()} == COLUMNS_12
    assert gen.USERS_11 == COLUMNS_11["users"]


@pytest.mark.parametrize("name", ["bulk.zip", "delta.zip", "v11.zip", "bom_crlf.zip"])
def test_each_valid_package_reads_without_errors(name):
    pkg = read(PACKAGES[name])
    assert pkg.errors == [] and pkg.errors_total == 0
    assert pkg.version == ("1.1" if name == "v11.zip" else "1.2")


def test_a_package_of_5000_users_and_12000_enrollments_reads_without_errors(settings):
    settings.INTEGRATIONS_SYNC_MAX_ROWS = 12000  # the sync's own cap is not this test's subject
    pkg = read(gen.big_package(users=5000, enrollments=12000))
    assert pkg.errors == []
    assert len(pkg.files["enrollments"]) == 12000 and len(pkg.files["users"]) == 5000


INVALID = {
    "invalid_header_order.zip": ("users.csv", 1, "status", "header"),
    "invalid_missing_required.zip": ("users.csv", 3, "username", "required"),
    "invalid_sourcedid.zip": ("users.csv", 3, "sourcedId", "invalid_id"),
    "invalid_duplicate_sourcedid.zip": ("users.csv", 8, "sourcedId", "duplicate"),
    "invalid_date.zip": ("academicSessions.csv", 3, "endDate", "invalid_date"),
    "invalid_datetime.zip": ("users.csv", 2, "dateLastModified", "invalid_datetime"),
    "invalid_vocabulary.zip": ("enrollments.csv", 2, "role", "invalid_choice"),
    "invalid_status_in_bulk.zip": ("classes.csv", 2, "status", "not_blank"),
    "invalid_utf8.zip": ("users.csv", 4, None, "encoding"),
    "invalid_long_field.zip": ("users.csv", 3, "familyName", "max_length"),
    "invalid_huge_field.zip": ("users.csv", 3, "middleName", "max_length"),
    "invalid_zip_slip.zip": (None, None, None, "unsafe_entry"),
    "invalid_symlink.zip": (None, None, None, "unsafe_entry"),
    "invalid_zip_bomb.zip": ("enrollments.csv", None, None, "unreadable"),
}


def test_every_invalid_package_of_the_generator_has_an_expectation():
    assert set(INVALID) | {"invalid_dangling_reference.zip"} == {n for n in PACKAGES if n.startswith("invalid_")}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_each_invalid_package_is_refused_where_its_fault_is(name):
    pkg = read(PACKAGES[name])
    assert where(pkg) == {INVALID[name]}, pkg.errors
    for e in pkg.errors:
        # Never Python's own words, never a line 0, never a raw byte count.
        assert not re.search(r"field larger|field limit|131072|Bad CRC|Errno|line 0\b|\d{6,}", e["message"])
        assert e["line"] is None or e["line"] >= 1


def test_a_dangling_reference_is_named_once_the_rows_are_well_formed(org):
    pkg = read(PACKAGES["invalid_dangling_reference.zip"])
    assert pkg.errors == []
    # References are resolved while the roster is stored (against the package, then what earlier
    # imports of this university stored): the import is refused there, and nothing is written.
    data = PACKAGES["invalid_dangling_reference.zip"]
    with pytest.raises(OneRosterRefused) as caught:
        oneroster_import(organization=org, fileobj=io.BytesIO(data), size=len(data))
    got = {(d["file"], d["line"], d["column"], d["code"]) for d in caught.value.extra["details"]}
    assert ("enrollments.csv", 2, "classSourcedId", "invalid_reference") in got


# --- sourcedId -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sid",
    ["stu 0002", "stu\t0002", "stu\x070002", "stu\u00a00002", "stu\u20280002", "x" * 256, " stu-0002", "stu-0002 "],
    ids=repr,
)
def test_a_sourcedid_with_whitespace_or_control_characters_or_too_long_is_refused(sid):
    pkg = read(users_with(sourcedId=sid))
    assert where(pkg) == {("users.csv", 3, "sourcedId", "invalid_id")}


@pytest.mark.parametrize("sid", ["a,b", 'q"uote', "x" * 255, "طالب-1", "{6f1c8a2e-0b7d-4c1e-9a55-0e1f2d3c4b5a}"])
def test_printable_sourcedids_up_to_255_characters_are_accepted(sid):
    data = gen.zip_package(
        {
            "users": gen._set(gen.bulk_files()["users"], 1, "users", "sourcedId", sid),
        },
        modes={"users": "bulk"},
    )
    assert read(data).errors == []


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2026-9-1", "2026-02-30", "01/09/2026", "2026-09-01T00:00:00.000Z", "٢٠٢٦-٠٩-٠١"])
@pytest.mark.parametrize(
    "name,col,required", [("academicSessions", "startDate", True), ("roles", "beginDate", False),
                          ("enrollments", "endDate", False)]
)  # fmt: skip
def test_every_date_column_takes_only_a_real_yyyy_mm_dd(name, col, required, value):
    pkg = read(with_rows(name, 0, **{col: value}))
    assert where(pkg) == {(f"{name}.csv", 2, col, "invalid_date")}
    blank = read(with_rows(name, 0, **{col: ""}))
    assert where(blank) == ({(f"{name}.csv", 2, col, "required")} if required else set())


def test_a_session_ending_before_it_starts_and_a_school_year_not_of_four_digits_are_refused():
    pkg = read(with_rows("academicSessions", 1, startDate="2027-02-01", endDate="2027-01-31"))
    assert where(pkg) == {("academicSessions.csv", 3, "endDate", "date_order")}
    for year in ("27", "2027-28", "20270", "٢٠٢٧"):
        pkg = read(with_rows("academicSessions", 1, schoolYear=year))
        assert where(pkg) == {("academicSessions.csv", 3, "schoolYear", "invalid_year")}, year


@pytest.mark.parametrize(
    "stamp", ["2026-11-02T08:30:00Z", "2026-11-02T08:30:00.000+01:00", "2026-11-02 08:30:00.000Z",
              "2026-13-02T08:30:00.000Z", "2026-11-02T25:30:00.000Z", "2026-11-02", ""]
)  # fmt: skip
def test_a_delta_records_date_last_modified_is_a_real_moment_with_milliseconds_and_z(stamp):
    rows = gen._delta(gen.bulk_files()["users"][:1])
    pkg = read(delta("users", gen._set(rows, 0, "users", "dateLastModified", stamp)))
    assert where(pkg) == {("users.csv", 2, "dateLastModified", "invalid_datetime" if stamp else "required")}


def test_a_delta_record_with_a_good_stamp_is_accepted():
    rows = gen._delta(gen.bulk_files()["users"][:1])
    assert read(delta("users", gen._set(rows, 0, "users", "dateLastModified", "2026-02-28T23:59:59.999Z"))).errors == []


# --- bulk and delta ------------------------------------------------------------------------------


@pytest.mark.parametrize("status,stamp", [("active", ""), ("tobedeleted", ""), ("", gen.STAMP)])
def test_a_bulk_file_leaves_status_and_date_last_modified_blank(status, stamp):
    pkg = read(with_rows("orgs", 0, status=status, dateLastModified=stamp))
    col = "status" if status else "dateLastModified"
    assert where(pkg) == {("orgs.csv", 2, col, "not_blank")}


@pytest.mark.parametrize("status", ["", "deleted", "Active"])
def test_a_delta_file_fills_status_with_active_or_tobedeleted(status):
    rows = gen._set(gen._delta(gen.bulk_files()["users"][:1]), 0, "users", "status", status)
    pkg = read(delta("users", rows))
    assert where(pkg) == {("users.csv", 2, "status", "required" if not status else "invalid_choice")}


# --- vocabularies --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,col,value",
    [("orgs", "type", "faculty"), ("academicSessions", "type", "quarter"), ("classes", "classType", "lab"),
     ("users", "enabledUser", "yes"), ("roles", "roleType", "main"), ("roles", "role", "pupil"),
     ("enrollments", "role", "pupil"), ("enrollments", "primary", "TRUE")],
)  # fmt: skip
def test_each_vocabulary_refuses_other_values_and_quotes_the_one_found(name, col, value):
    pkg = read(with_rows(name, 0, **{col: value}))
    assert where(pkg) == {(f"{name}.csv", 2, col, "invalid_choice")}
    assert pkg.errors[0]["message"].startswith("Must be one of: ")
    assert pkg.errors[0]["message"].endswith(f'; found "{value}".')


def test_the_enrollment_role_message_lists_the_roles():
    pkg = read(PACKAGES["invalid_vocabulary.zip"])
    assert pkg.errors[0]["message"] == 'Must be one of: administrator, proctor, student, teacher; found "pupil".'


def test_enrollment_primary_may_be_blank_true_or_false_and_extensions_are_accepted():
    for value in ("", "true", "false"):
        assert read(with_rows("enrollments", 0, primary=value)).errors == []
    assert read(with_rows("roles", 0, role="ext:tutor")).errors == []
    assert read(with_rows("orgs", 0, type="ext:faculty")).errors == []


def test_a_oneroster_11_users_role_is_checked():
    files = {k: v for k, v in gen.bulk_files().items() if k != "roles"}
    cols = COLUMNS_11["users"].split(",")
    files["users"] = [
        [{"sourcedId": "stu-1", "enabledUser": "true", "orgSourcedIds": "sch-1", "role": "pupil", "username": "u",
          "givenName": "A", "familyName": "B"}.get(c, "") for c in cols]
    ]  # fmt: skip
    pkg = read(gen.zip_package(files, version="1.1"))
    assert where(pkg) == {("users.csv", 2, "role", "invalid_choice")}


# --- UTF-8 ---------------------------------------------------------------------------------------


def test_a_bad_byte_is_named_by_line_character_and_byte():
    pkg = read(PACKAGES["invalid_utf8.zip"])
    # "stu-0003,,,true,stu-0003,,Ren" is 29 characters: the Latin-1 é is the 30th.
    assert pkg.errors[0]["message"] == "Line 4, character 30 (byte 30), is not UTF-8: save the file as UTF-8."


def test_characters_and_bytes_differ_after_a_multibyte_character_and_far_down_a_crlf_file():
    rows = gen.bulk_files()["users"]
    many = [gen._user(f"u-{i:05d}", "Élodie", "Ñúñez", "sch-1") for i in range(3000)]  # > 64 KB: many chunks
    data = gen.zip_package({**gen.bulk_files(), "users": rows + many}, newline="\r\n", bom=True)
    data = gen._replace_bytes(data, "users.csv", b"u-02500,,,true,u-02500,,\xc3\x89lodie,\xc3\x91",
                              b"u-02500,,,true,u-02500,,\xc3\x89lodie,\xff")  # fmt: skip
    pkg = read(data)
    line = 1 + len(rows) + 2500 + 1
    col = len("u-02500,,,true,u-02500,,Élodie,") + 1
    assert where(pkg) == {("users.csv", line, None, "encoding")}
    assert pkg.errors[0]["message"].startswith(f"Line {line}, character {col} (byte {col + 1}),")


def test_a_file_cut_inside_a_character_is_named_at_its_end():
    data = gen._replace_bytes(
        gen.zip_package(gen.bulk_files()), "courses.csv", b"cy-101,,sch-2,,\n", b"cy-101,,sch-2,,\n\xc3"
    )
    pkg = read(data)
    assert where(pkg) == {("courses.csv", 4, None, "encoding")}
    assert pkg.errors[0]["message"].startswith("Line 4, character 1 (byte 1),")


# --- sizes ---------------------------------------------------------------------------------------


def test_a_field_over_the_limit_names_its_column_and_the_limit(settings):
    settings.ONEROSTER_MAX_FIELD_CHARS = 40  # the longest value of bulk.zip is 33 characters
    pkg = read(users_with(familyName="x" * 41))
    assert where(pkg) == {("users.csv", 3, "familyName", "max_length")}
    assert pkg.errors[0]["message"] == "Longer than 40 characters."


def test_a_quoted_field_larger_than_the_csv_modules_limit_is_a_translated_error_naming_its_column():
    pkg = read(users_with(middleName=("y" * 60_000 + "\n") * 3))  # 180 K characters, lines under the cap
    assert where(pkg) == {("users.csv", 3, "middleName", "max_length")}
    assert "field limit" not in pkg.errors[0]["message"]


def test_sizes_in_messages_are_human_readable_and_localized(settings):
    data = PACKAGES["bulk.zip"]
    settings.ONEROSTER_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
    with pytest.raises(PackageTooLarge) as exc:
        read_package(io.BytesIO(data), size=60 * 1024 * 1024)
    assert "50.0\xa0MB" in exc.value.message and "52428800" not in exc.value.message
    with translation.override("fr"), pytest.raises(PackageTooLarge) as exc:
        read_package(io.BytesIO(data), size=60 * 1024 * 1024)
    assert "50,0" in exc.value.message
    settings.ONEROSTER_MAX_ENTRY_BYTES = 650  # manifest.csv is 616 bytes, users.csv 713
    pkg = read(data)
    assert ("users.csv", None, None, "too_large") in where(pkg)
    assert any(e["message"] == "This file is larger than 650\xa0bytes." for e in pkg.errors)


def test_the_inflated_total_over_all_entries_is_capped(settings):
    data = PACKAGES["bulk.zip"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sizes = {i.filename: i.file_size for i in zf.infolist()}
    settings.ONEROSTER_MAX_TOTAL_BYTES = sum(sizes.values()) - 1
    pkg = read(data)
    assert [(e["line"], e["code"]) for e in pkg.errors] == [(None, "too_large")]
    assert "inflate to more than" in pkg.errors[0]["message"]
    settings.ONEROSTER_MAX_TOTAL_BYTES = sum(sizes.values())
    assert read(data).errors == []


def test_the_inflate_cap_counts_what_the_decompressor_gives_whatever_the_headers_say():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("users.csv", b"\n" * (10 * 1024 * 1024))
    with zipfile.ZipFile(buf) as zf, zf.open("users.csv") as raw:
        capped = oneroster._Capped(raw, 1024 * 1024)
        got = 0
        with pytest.raises(oneroster._EntryTooLarge):
            while data := capped.read(64 * 1024):
                got += len(data)
    assert got <= 1024 * 1024


def test_a_bomb_whose_headers_claim_a_small_size_is_refused_without_inflating_it():
    data = PACKAGES["invalid_zip_bomb.zip"]
    assert len(data) < 200_000
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("enrollments.csv")
    assert info.file_size == gen.BOMB_CLAIMED and info.compress_size > 100_000  # the lie
    tracemalloc.start()
    try:
        pkg = read(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert where(pkg) == {("enrollments.csv", None, None, "unreadable")}
    assert "headers" in pkg.errors[0]["message"]
    assert peak < 8 * 1024 * 1024, peak


def test_an_entry_whose_checksum_does_not_match_is_named_damaged_in_plain_words():
    # A lie small enough to pass the headers' check: zipfile stops at the claimed size and the
    # checksum of what it read does not match.
    data = gen.lie_about_size(PACKAGES["bulk.zip"], "users.csv", 600)
    pkg = read(data)
    assert where(pkg) == {("users.csv", None, None, "unreadable")}
    assert "damaged" in pkg.errors[0]["message"] and "CRC" not in pkg.errors[0]["message"]


# --- zip entries ---------------------------------------------------------------------------------


def with_entry(name: str, data: bytes = b"x\n", *, attr: int | None = None) -> bytes:
    buf = io.BytesIO(PACKAGES["bulk.zip"])
    with zipfile.ZipFile(buf, "a") as zf:
        info = zipfile.ZipInfo(name)
        if attr is not None:
            info.create_system, info.external_attr = 3, attr << 16
        zf.writestr(info, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    "entry", ["../x.csv", "sub/../../x.csv", "/etc/users.csv", "C:/users.csv", "c:users.csv", "sub\\users.csv",
              "..", "a/..\\b.csv", "bad\x01name.csv"],
)  # fmt: skip
def test_an_entry_that_could_escape_the_root_refuses_the_whole_package_naming_it(entry):
    pkg = read(with_entry(entry))
    assert where(pkg) == {(None, None, None, "unsafe_entry")}
    shown = entry.replace("\x01", "?")
    assert f"«{shown}»" in pkg.errors[0]["message"]
    assert "users" not in pkg.files  # nothing read


def test_a_symbolic_link_entry_refuses_the_whole_package_even_at_the_root():
    import stat

    pkg = read(with_entry("users.csv.lnk", b"/etc/passwd", attr=stat.S_IFLNK | 0o777))
    assert where(pkg) == {(None, None, None, "unsafe_entry")}
    assert "«users.csv.lnk»" in pkg.errors[0]["message"] and "link" in pkg.errors[0]["message"]


def test_folders_and_files_below_the_root_are_ignored_never_read():
    data = with_entry("__MACOSX/._users.csv", b"\x00\x05\x16\x07")
    data = io.BytesIO(data)
    with zipfile.ZipFile(data, "a") as zf:
        zf.writestr("docs/", b"")
        zf.writestr("docs/users.csv", b"not,a,roster\n")
    assert read(data.getvalue()).errors == []


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_two_entries_with_one_name_refuse_the_package():
    pkg = read(with_entry("users.csv", b"sourcedId\n"))
    assert where(pkg) == {(None, None, None, "duplicate_entry")}
    assert "«users.csv»" in pkg.errors[0]["message"]


@pytest.mark.parametrize(
    "headers,words", [({"flags": 1}, "encrypted"), ({"method": 99}, "compress")], ids=["encrypted", "method"]
)
def test_an_entry_zipfile_cannot_open_is_explained_without_pythons_words(headers, words):
    from tests.integrations.test_oneroster import _entry_headers

    pkg = read(_entry_headers(PACKAGES["bulk.zip"], "users.csv", **headers))
    assert where(pkg) == {("users.csv", None, None, "unreadable")}
    assert words in pkg.errors[0]["message"]
    assert not re.search(r"password required|not supported|That compression", pkg.errors[0]["message"])


def test_file_level_errors_have_no_line():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.csv", gen.manifest({"users": "bulk"}))
    pkg = read(buf.getvalue())
    assert where(pkg) == {("users.csv", None, None, "missing")}
    pkg = read(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip
    assert where(pkg) == {("manifest.csv", None, None, "missing")}


# --- the admin's language ------------------------------------------------------------------------


def test_a_refusal_in_french():
    with translation.override("fr"):
        pkg = read(PACKAGES["invalid_vocabulary.zip"])
    assert pkg.errors[0]["message"] == (
        "Doit être l’une des valeurs : administrator, proctor, student, teacher ; trouvé « pupil »."
    )


def test_a_refusal_in_arabic():
    with translation.override("ar"):
        pkg = read(PACKAGES["invalid_zip_slip.zip"])
    assert pkg.errors[0]["message"] == ("مسار العنصر «../x.csv» في ملف zip يخرج من جذر الحزمة: رُفضت الحزمة كاملةً.")


def test_the_api_answers_a_refusal_in_the_admins_language_and_writes_nothing(api, org):
    from accounts.models import User

    f = io.BytesIO(PACKAGES["invalid_vocabulary.zip"])
    f.name = "roster.zip"
    resp = api.http.post("/api/v1/oneroster/imports", {"file": f}, HTTP_ACCEPT_LANGUAGE="ar")
    assert resp.status_code == 400
    [detail] = resp.json()["error"]["details"]
    assert (detail["file"], detail["line"], detail["column"], detail["code"]) == (
        "enrollments.csv", 2, "role", "invalid_choice"
    )  # fmt: skip
    assert detail["message"] == "يجب أن تكون إحدى القيم: administrator, proctor, student, teacher؛ وُجد «pupil»."
    assert not User.objects.filter(organization=org).exists()


def test_a_manifest_mode_outside_absent_bulk_delta_is_quoted():
    data = PACKAGES["bulk.zip"]
    data = gen._replace_bytes(data, "manifest.csv", b"file.users,bulk", b"file.users,full")
    pkg = read(data)
    line = gen.manifest({}).splitlines().index("file.users,absent") + 1
    assert where(pkg) == {("manifest.csv", line, "value", "invalid_choice")}
    assert pkg.errors[0]["message"] == 'Must be one of: absent, bulk, delta; found "full".'


def test_the_command_names_an_unsafe_entry_without_a_line(org, tmp_path, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "roster.zip"
    path.write_bytes(PACKAGES["invalid_zip_slip.zip"])
    with pytest.raises(CommandError):
        call_command("import_oneroster", str(path), "--org", org.slug)
    err = capsys.readouterr().err
    assert f"{path}: The path of the zip entry «../x.csv» leaves the package root" in err
    assert ":0" not in err
