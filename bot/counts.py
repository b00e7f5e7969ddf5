"""Anonymous counts for the supervisors' reports: what is counted when, and the tables made of it.

Nothing here holds a conversation id, a channel id or message text. A day's counts are a hash of
`<measure>|<dimension>|<value>` -> count for everyone (`*`) and one for each NGO's code, and the
waits for an operator a list of seconds (bot/store.py keeps them). Tables show no count from 1 to
4 (SMALLEST), and hide one more cell where a total would give a hidden one away."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

# Thailand, Vietnam and Cambodia all keep Indochina Time, without daylight saving.
ICT = timezone(timedelta(hours=7), "ICT")
SMALLEST = 5
ALL = "*"
NONE = "none"
UNKNOWN = "unknown"

MEASURES = (
    "conversations",
    "screenings",
    "handoffs",
    "answered",
    "referrals_sent",
    "referrals_accepted",
    "referrals_closed",
)
DIMENSIONS = ("channel", "language", "country", "referral", "risk", "partner_country")
# What is known of each counted thing when it is counted: a conversation on its first message
# (before any screening), a screening when its result is given, a hand-off when asked for and
# when an operator takes it.
MEASURE_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "conversations": ("channel", "language", "referral"),
    "screenings": DIMENSIONS[:5],
    "handoffs": DIMENSIONS[:5],
    "answered": DIMENSIONS[:5],
    # Referrals to partners in the people's home countries (bot/store/referrals.py): counted when
    # the partner hotline has one, and when it says it accepted or closed it.
    "referrals_sent": ("partner_country",),
    "referrals_accepted": ("partner_country",),
    "referrals_closed": ("partner_country",),
}

Cell = int | None  # None: hidden, because it could single someone out


def day(at: float) -> str:
    """The day (ICT) of a moment, as YYYY-MM-DD."""
    return datetime.fromtimestamp(at, ICT).date().isoformat()


def today() -> date:
    """Today in ICT."""
    return datetime.now(UTC).astimezone(ICT).date()


def fields(measure: str, referral: str, dims: Mapping[str, str | None]) -> list[str]:
    """The counters one counted thing adds 1 to, one per dimension of the measure, as
    `measure|dimension|value` (for everyone, and for the NGO whose link it came through). No
    referral counts as "none"; any other missing value (a risk without a screening) as
    "unknown"."""
    found = []
    for dim in MEASURE_DIMENSIONS[measure]:
        value = (referral or NONE) if dim == "referral" else (dims.get(dim) or UNKNOWN)
        found.append(f"{measure}|{dim}|{value}")
    return found


def whom(referral: str) -> tuple[str, ...]:
    """Whose counters a thing that came through `referral` is counted in: everyone's, and the
    NGO's."""
    return (ALL, referral) if referral else (ALL,)


@dataclass(frozen=True)
class Tally:
    """What a handled message counts: `counted` always, `opening` only if its conversation was not
    counted yet; in everyone's counters and in those of the `referral` NGO."""

    referral: str = ""
    counted: tuple[str, ...] = ()
    opening: tuple[str, ...] = ()


NOTHING = Tally()


@dataclass(frozen=True)
class Day:
    """One day's counts for everyone or one NGO (measure -> dimension -> value -> count), and the
    seconds each answered hand-off waited."""

    day: str
    counts: Mapping[str, Mapping[str, Mapping[str, int]]]
    waits: Sequence[float]

    @classmethod
    def read(cls, day: str, counters: Mapping[str, str | int], waits: Iterable[str | float]) -> Day:
        """A day from its stored counters (`measure|dimension|value` -> count) and waits."""
        found: dict[str, dict[str, dict[str, int]]] = {}
        for counter, n in counters.items():
            measure, dim, value = counter.split("|", 2)
            found.setdefault(measure, {}).setdefault(dim, {})[value] = int(n)
        return cls(day, found, [float(w) for w in waits])

    def total(self, measure: str) -> int:
        """How many of the measure that day (every one has a channel)."""
        return sum(self.by(measure, "channel").values())

    def by(self, measure: str, dim: str) -> Mapping[str, int]:
        """The measure's counts by the dimension's values."""
        return self.counts.get(measure, {}).get(dim, {})


@dataclass(frozen=True)
class Table:
    """A report table as shown: rows of cells under columns, and a row of totals."""

    columns: tuple[str, ...]
    rows: list[tuple[str, list[Cell]]]
    totals: list[Cell]


def suppress(
    rows: Sequence[Sequence[int]], totals: Sequence[int]
) -> tuple[list[list[Cell]], list[Cell]]:
    """Hides every count from 1 to SMALLEST - 1; then, in each column whose total is shown, hides
    the next smallest count where exactly one is hidden, since the total minus the others would
    give it away. Zeros are shown: they single nobody out."""
    cells: list[list[Cell]] = [
        [n if n == 0 or n >= SMALLEST else None for n in row] for row in rows
    ]
    shown_totals: list[Cell] = [n if n == 0 or n >= SMALLEST else None for n in totals]
    for col, total in enumerate(shown_totals):
        if total is None:
            continue
        hidden = [row for row in cells if row[col] is None]
        if len(hidden) != 1:
            continue
        candidates = [row for row in cells if row[col] not in (None, 0)]
        if candidates:
            min(candidates, key=lambda row: row[col] or 0)[col] = None
    return cells, shown_totals


def median_wait(waits: Sequence[float]) -> Cell:
    """The median wait in whole seconds; hidden under SMALLEST waits."""
    if len(waits) < SMALLEST:
        return None
    return round(statistics.median(waits))


def daily(days: Sequence[Day]) -> Table:
    """Each day's counts of every measure, and the median wait for an operator."""
    counts = [[d.total(m) for m in MEASURES] for d in days]
    totals = [sum(row[i] for row in counts) for i in range(len(MEASURES))]
    cells, shown = suppress(counts, totals)
    all_waits = [w for d in days for w in d.waits]
    rows = [(d.day, [*row, median_wait(d.waits)]) for d, row in zip(days, cells, strict=True)]
    return Table((*MEASURES, "median_wait"), rows, [*shown, median_wait(all_waits)])


def breakdown(days: Sequence[Day], dim: str) -> Table:
    """The period's counts by one dimension's values, for the measures that have it; the value
    with most first."""
    measures = tuple(m for m in MEASURES if dim in MEASURE_DIMENSIONS[m])
    sums: dict[str, list[int]] = {}
    for d in days:
        for i, measure in enumerate(measures):
            for value, n in d.by(measure, dim).items():
                sums.setdefault(value, [0] * len(measures))[i] += n
    values = sorted(sums, key=lambda v: (-sum(sums[v]), v))
    totals = [sum(sums[v][i] for v in values) for i in range(len(measures))]
    cells, shown = suppress([sums[v] for v in values], totals)
    return Table(measures, list(zip(values, cells, strict=True)), shown)


def period(first: date, last: date) -> list[str]:
    """Every day from first to last, as YYYY-MM-DD."""
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


@dataclass(frozen=True)
class Bar:
    """One bar of a chart, in the chart's units (0 to 100 high); `hidden` bars are drawn as an
    outline of the smallest shown height and carry no number."""

    x: float
    width: float
    height: float
    series: int
    label: str
    hidden: bool


def bars(
    labels: Sequence[str], series: Sequence[Sequence[Cell]], width: float = 100.0
) -> list[Bar]:
    """Grouped bars: for each label, one bar per series, scaled to the largest shown count."""
    top = max((n for values in series for n in values if n), default=0) or 1
    group = width / max(1, len(labels))
    bar_width = group * 0.8 / max(1, len(series))
    found = []
    for i, label in enumerate(labels):
        for s, values in enumerate(series):
            n = values[i]
            hidden = n is None
            height = 100 * (SMALLEST - 1) / max(top, SMALLEST) if hidden else 100 * (n or 0) / top
            x = i * group + group * 0.1 + s * bar_width
            found.append(Bar(x, bar_width, height, s, label, hidden))
    return found


def csv_rows(table: Table, first: str) -> Iterable[list[str]]:
    """The table as CSV rows (header first); a hidden count as "<5", a hidden median empty."""
    yield [first, *table.columns]
    for name, cells in [*table.rows, ("total", table.totals)]:
        yield [
            name,
            *(_csv(cell, column) for cell, column in zip(cells, table.columns, strict=True)),
        ]


def _csv(cell: Cell, column: str) -> str:
    if cell is not None:
        return str(cell)
    return "" if column == "median_wait" else f"<{SMALLEST}"
