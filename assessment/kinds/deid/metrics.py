"""The measures of a release, computed outside the sandbox on text cells (see the folder's
docstring for the generalization forms and the loss measure).

- `Column` indexes one source column: each distinct value -> the bitset (a Python int) of the
  source rows holding it, its numeric values sorted, its values by (length, prefix). `covers(v)`
  is the bitset of the source rows whose value the released cell `v` generalizes, and `loss(v)`
  that cell's information loss, from 0 (the value itself) to 1 (suppressed).
- `match(...)` pairs released rows one to one with source rows they generalize (Kuhn's augmenting
  paths over bitsets, most constrained rows first): a row that generalizes no source row, or one
  copy too many of rows that stand for the same source rows, is named.
- `classes(...)` gives the equivalence classes over the quasi-identifiers (pandas groupby), their
  sizes and distinct sensitive values."""

import bisect
import re
from dataclasses import dataclass

import pandas as pd

NUMBER = r"-?\d+(?:\.\d+)?"
# 30-39, 30–39, 30..39 (both ends included); [30, 40), (30, 40], [30;40], [30-39]...
DASHED = re.compile(rf"({NUMBER})\s*(?:-|–|—|\.\.)\s*({NUMBER})")
BRACKETED = re.compile(rf"([\[\]\(])\s*({NUMBER})\s*[,;\-–]\s*({NUMBER})\s*([\]\)\[])")
OPEN_TOP = re.compile(rf"({NUMBER})\s*\+")  # 60+ : 60 and above
NUMERIC = re.compile(NUMBER)
MASKED = re.compile(r"([^*]+)(\*+)")
SUPPRESSED = re.compile(r"\**")  # "", "*", "***"


def is_suppressed(value: str) -> bool:
    return SUPPRESSED.fullmatch(value) is not None


def interval(value: str):
    """(low, high, low_included, high_included) of a numeric interval cell, or None."""
    m = BRACKETED.fullmatch(value)
    if m:
        lo, hi = float(m.group(2)), float(m.group(3))
        return (lo, hi, m.group(1) == "[", m.group(4) == "]") if lo <= hi else None
    m = DASHED.fullmatch(value)
    if m:
        lo, hi = float(m.group(1)), float(m.group(2))
        return (lo, hi, True, True) if lo <= hi else None
    m = OPEN_TOP.fullmatch(value)
    if m:
        return (float(m.group(1)), float("inf"), True, True)
    return None


def members(value: str):
    """The values of a set cell ({Rabat, Salé} or Rabat|Salé), or None."""
    if len(value) >= 2 and value[0] == "{" and value[-1] == "}":
        parts = value[1:-1].split(",")
    elif "|" in value:
        parts = value.split("|")
    else:
        return None
    parts = [p.strip() for p in parts]
    return parts if len(parts) >= 1 and all(parts) else None


class Column:
    def __init__(self, values: list[str]):
        self.rows: dict[str, int] = {}
        for i, v in enumerate(values):
            self.rows[v] = self.rows.get(v, 0) | (1 << i)
        self.all = (1 << len(values)) - 1
        self.distinct = len(self.rows)
        nums = []
        for v in self.rows:
            if NUMERIC.fullmatch(v):
                nums.append((float(v), v))
        nums.sort()
        self.numbers = [x for x, _v in nums]
        self.number_values = [v for _x, v in nums]
        self.span = (self.numbers[-1] - self.numbers[0]) if len(self.numbers) > 1 else 0.0
        self.prefixes: dict[tuple[int, str], list[str]] = {}
        for v in self.rows:
            for n in range(1, len(v)):
                self.prefixes.setdefault((len(v), v[:n]), []).append(v)
        self._memo: dict[str, tuple[int, float, str]] = {}

    def _values_bits(self, values) -> int:
        bits = 0
        for v in values:
            bits |= self.rows.get(v, 0)
        return bits

    def read(self, value: str) -> tuple[int, float, str]:
        """(bitset of source rows covered, loss, form) of a released cell; form is one of
        original, suppressed, interval, masked, set, none (it generalizes no source value)."""
        found = self._memo.get(value)
        if found is None:
            found = self._memo[value] = self._read(value)
        return found

    def _read(self, value: str) -> tuple[int, float, str]:
        if is_suppressed(value):
            return self.all, 1.0, "suppressed"
        if value in self.rows:
            return self.rows[value], 0.0, "original"
        bounds = interval(value)
        if bounds is not None and self.numbers:
            lo, hi, lo_in, hi_in = bounds
            start = bisect.bisect_left(self.numbers, lo) if lo_in else bisect.bisect_right(self.numbers, lo)
            end = bisect.bisect_right(self.numbers, hi) if hi_in else bisect.bisect_left(self.numbers, hi)
            covered = self.number_values[start:end]
            if covered:
                # Iyengar's LM on the part of the interval inside the column's range.
                width = min(hi, self.numbers[-1]) - max(lo, self.numbers[0])
                loss = min(1.0, width / self.span) if self.span else 0.0
                return self._values_bits(covered), max(0.0, loss), "interval"
        m = MASKED.fullmatch(value)
        if m:
            covered = self.prefixes.get((len(value), m.group(1)), [])
            if covered:
                return self._values_bits(covered), self._share(len(covered)), "masked"
        parts = members(value)
        if parts is not None:
            covered = {p for p in parts if p in self.rows}
            if covered:
                return self._values_bits(covered), self._share(len(covered)), "set"
        return 0, 0.0, "none"

    def _share(self, covered: int) -> float:
        return (covered - 1) / (self.distinct - 1) if self.distinct > 1 else 0.0


@dataclass
class Matching:
    ok: bool
    row: int | None = None  # 0-based released row that could not be matched
    reason: str = ""  # "none": generalizes no source row; "copy": one copy too many


def match(covers: list[int]) -> Matching:
    """A one-to-one matching of released rows (covers[r]: bitset of source rows row r generalizes)
    to source rows, saturating every released row; else the first row that cannot be matched."""
    order = sorted(range(len(covers)), key=lambda r: (covers[r].bit_count(), r))
    owner: dict[int, int] = {}  # source row -> released row
    free = -1  # every source row free (all bits set)
    for r in order:
        if not covers[r]:
            return Matching(False, r, "none")
        avail = covers[r] & free
        if avail:
            s = (avail & -avail).bit_length() - 1
            owner[s] = r
            free &= ~(1 << s)
            continue
        if not _augment(r, covers, owner, free):
            return Matching(False, r, "copy")
        # _augment moved rows along the path and took one free source row
        free = _free_mask(owner, free)
    return Matching(True)


def _free_mask(owner: dict[int, int], free: int) -> int:
    for s in owner:
        free &= ~(1 << s)
    return free


def _augment(start: int, covers: list[int], owner: dict[int, int], free: int) -> bool:
    """Breadth-first search of an alternating path from released row `start` to a free source
    row; flips it. Bitsets keep each step a few integer operations."""
    parent: dict[int, tuple[int, int | None]] = {}  # source row -> (released row reached from, previous source)
    seen = 0
    frontier = [(start, None)]
    while frontier:
        nxt = []
        for r, via in frontier:
            new = covers[r] & ~seen
            seen |= new
            while new:
                low = new & -new
                s = low.bit_length() - 1
                new ^= low
                parent[s] = (r, via)
                if free & low:
                    # flip the path: s goes to r, r's previous source goes to the row before...
                    while True:
                        row, prev = parent[s]
                        owner[s] = row
                        if prev is None:
                            return True
                        s = prev
                nxt.append((owner[s], s))
        frontier = nxt
    return False


def classes(released: pd.DataFrame, quasi: list[str], sensitive: str) -> pd.DataFrame:
    """One row per equivalence class: its quasi-identifier values, size and distinct sensitive
    values, smallest first (then by values, so the smallest class named is stable)."""
    grouped = released.groupby(quasi, dropna=False, sort=True)
    out = grouped.agg(size=(sensitive, "size"), distinct=(sensitive, "nunique")).reset_index()
    return out.sort_values(["size", "distinct"], kind="stable").reset_index(drop=True)
