"""A sync row is checked in one place (sync_rows.row_check): the batch's checks, and the API's
documented row (SyncRowSerializer), give the same verdict and the same messages."""

import pytest

from integrations.api.serializers import SyncRowSerializer
from integrations.services.sync_rows import MAX_LENGTH, parse_rows

GOOD = {"external_id": "s1", "email": "Amina@Univ.ma", "given_name": "Amina", "course_code": "ds-101"}
BAD = [
    {**GOOD, "email": "not-an-email"},
    {**GOOD, "external_id": ""},
    {**GOOD, "external_id": "x" * (MAX_LENGTH["external_id"] + 1)},
    {**GOOD, "course_code": "bad\x00code"},
    {**GOOD, "family_name": "bad\ud800name"},
    {**GOOD, "status": "paused"},
    {**GOOD, "given_name": 7},
]


@pytest.mark.parametrize("raw", BAD)
def test_the_documented_row_and_the_batch_refuse_a_row_with_the_same_messages(raw):
    _rows, errors = parse_rows([raw], courses={"ds-101"})
    serializer = SyncRowSerializer(data=raw)
    assert not serializer.is_valid()
    assert {(e["field"], e["code"], e["message"]) for e in errors} == {
        (name, str(d.code), str(d)) for name, details in serializer.errors.items() for d in details
    }


def test_the_documented_row_accepts_what_the_batch_accepts():
    (row,), errors = parse_rows([GOOD], courses={"ds-101"})
    serializer = SyncRowSerializer(data=GOOD)
    assert serializer.is_valid(), serializer.errors
    assert not errors
    assert serializer.validated_data == row
    assert (row.email, row.full_name, row.status) == ("amina@univ.ma", "Amina", "active")


def test_the_schema_shows_the_limits_the_sync_checks():
    fields = SyncRowSerializer().fields
    assert {name: fields[name].max_length for name in MAX_LENGTH} == MAX_LENGTH
