"""A sync row is checked in one place (sync_rows.row_check): the batch's checks, and the API's
documented row (SyncRowSerializer), give the same verdict and the same messages."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.api.serializers import SyncRowSerializer
from integrations.services.sync_rows import MAX_LENGTH, _plain_row, parse_rows, row_check

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


_TEXT = st.one_of(
    st.none(),
    st.integers(),
    st.sampled_from(["", " ", "ds-101", " ds-101 ", "amina@univ.ma", "AMINA@Univ.MA", "a@b", "x" * 101, "x" * 129]),
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(["\x00", "@", ".", " "]), max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(
    raw=st.one_of(
        st.fixed_dictionaries(
            {
                name: st.one_of(st.sampled_from(plain), _TEXT)  # plain values often, so all five are
                for name, plain in {
                    "external_id": ["s1", " S-1 "],
                    "email": ["amina@univ.ma", " AMINA@Univ.MA ", "a.b@c.ma"],
                    "given_name": ["Amina", " Amina "],
                    "family_name": ["Benali", " Benali ", "x" * 100],
                    "course_code": ["ds-101", " ds-101 "],
                }.items()
            },
            optional={"status": st.sampled_from(["active", "dropped", "completed-elsewhere", "paused", None, 1])},
        ),
        st.sampled_from([[], "row", None, 3]),
    )
)
def test_the_fast_path_for_plain_rows_gives_row_check_verdict(raw):
    """parse_rows decides a plain row without row_check (_plain_row); whatever it takes, row_check
    takes too, with the same values."""
    courses = {"ds-101"}
    plain = _plain_row(raw, 0, courses)
    errors = []
    checked = row_check(raw, index=0, errors=errors, courses=courses)
    if plain is not None:
        assert checked == plain and errors == []


def test_a_plain_batch_takes_the_fast_path_and_keeps_its_values():
    raws = [
        {**GOOD, "external_id": f" s{i} ", "email": f"A{i}@Univ.ma", "family_name": "Benali", "status": "dropped"}
        for i in range(3)
    ]
    rows, errors = parse_rows(raws, courses={"ds-101"})
    assert errors == [] and all(
        _plain_row(raw, i, {"ds-101"}) == row for i, (raw, row) in enumerate(zip(raws, rows, strict=True))
    )
    assert [(r.external_id, r.email, r.full_name, r.status) for r in rows] == [
        (f"s{i}", f"a{i}@univ.ma", "Amina Benali", "dropped") for i in range(3)
    ]
