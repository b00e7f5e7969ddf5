"""The console's reports (supervisors only): anonymous counts by day, channel, language, country,
referral and risk, as charts and as CSV (bot/counts.py makes the tables)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from bot import counts, ngos
from bot.store import Store
from handoff.deps import StoreDep, Supervisor
from handoff.pages import PREFIX, render
from handoff.views import Texts

DEFAULT_DAYS = 28
LONGEST_DAYS = 366
CSV_TABLES = ("daily", *counts.DIMENSIONS)

router = APIRouter(prefix=f"{PREFIX}/reports", include_in_schema=False)


@dataclass(frozen=True)
class Asked:
    """What a report is asked for: a period of days (ICT) and everyone or one NGO's code."""

    first: date
    last: date
    referral: str
    error: bool = False


def asked(
    first: Annotated[str, Query(max_length=10)] = "",
    last: Annotated[str, Query(max_length=10)] = "",
    ngo: Annotated[str, Query(max_length=64)] = "",
) -> Asked:
    """The period and NGO from the query; the last 28 days when none is given, and `error` (with
    the default period) when what is given is not a period."""
    end = counts.today()
    default = Asked(end - timedelta(days=DEFAULT_DAYS - 1), end, "")
    referral = ngo if ngos.CODE.match(ngo) else ""
    try:
        if not first and not last:
            return Asked(default.first, default.last, referral)
        start, stop = date.fromisoformat(first), date.fromisoformat(last)
        if start > stop or (stop - start).days >= LONGEST_DAYS:
            raise ValueError("not a period")
    except ValueError:
        return Asked(default.first, default.last, referral, error=True)
    return Asked(start, stop, referral)


Report = Annotated[Asked, Depends(asked)]


def label(t: Texts, dim: str, value: str, names: dict[str, str]) -> str:
    """How a dimension's value reads in the console."""
    if value in (counts.UNKNOWN, counts.NONE):
        return t.of("reports", value)
    if dim == "channel":
        return t.of("channels", value)
    if dim == "language":
        return t.of("languages", value)
    if dim in ("country", "partner_country"):
        return t.country(value)
    if dim == "risk":
        return t.of("risks", value)
    return f"{names[value]} ({value})" if value in names else value


async def days(store: Store, report: Asked) -> list[counts.Day]:
    """The counts of every day of the report's period, for everyone or its NGO."""
    period = counts.period(report.first, report.last)
    return await store.statistics(period, report.referral)


@router.get("")
async def report_page(
    request: Request, store: StoreDep, session: Supervisor, report: Report
) -> HTMLResponse:
    """Counts for a period, for everyone or one NGO: by day, and by each dimension."""
    found = await days(store, report)
    registry = await ngos.everyone(store.redis)
    names = {ngo.code: ngo.name for ngo in registry}
    t = Texts(session.account.language)
    daily = counts.daily(found)
    tables = {dim: counts.breakdown(found, dim) for dim in counts.DIMENSIONS}
    charts = {"daily": _chart(daily, [row[0][5:] for row in daily.rows])}
    for dim, table in tables.items():
        labels = [label(t, dim, value, names) for value, _ in table.rows]
        charts[dim] = _chart(table, labels)
    context = {
        "session": session,
        "report": report,
        "registry": registry,
        "daily": daily,
        "tables": tables,
        "charts": charts,
        "names": names,
        "label": lambda dim, value: label(t, dim, value, names),
        "query": _query(report),
    }
    return render(request, "reports.html", context, 400 if report.error else 200)


@router.get("/{table}.csv")
async def report_csv(
    store: StoreDep,
    session: Supervisor,
    report: Report,
    table: Annotated[str, PathParam(pattern=f"^({'|'.join(CSV_TABLES)})$")],
) -> Response:
    """One table of the report as CSV (hidden counts as "<5")."""
    found = await days(store, report)
    if table == "daily":
        rows = counts.csv_rows(counts.daily(found), "day")
    else:
        rows = counts.csv_rows(counts.breakdown(found, table), table)
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    who = report.referral or "everyone"
    name = f"hotline-{table}-{who}-{report.first}-{report.last}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@dataclass(frozen=True)
class Chart:
    """A bar chart of a table's first column and its hand-offs, ready to draw (units: the SVG's
    own, bars 0 to 100 high)."""

    width: float
    bars: list[counts.Bar]
    labels: list[tuple[float, str]]
    series: tuple[str, ...]


def _chart(table: counts.Table, labels: list[str]) -> Chart:
    # The first column and the hand-offs (a table of referrals has only its own columns).
    names = tuple(dict.fromkeys(c for c in (table.columns[0], "handoffs") if c in table.columns))
    columns = [table.columns.index(name) for name in names]
    series = [[cells[i] for _, cells in table.rows] for i in columns]
    width = max(100.0, 12.0 * len(labels))
    step = max(1, len(labels) // 14)
    group = width / max(1, len(labels))
    ticks = [(group * (i + 0.5), text) for i, text in enumerate(labels) if i % step == 0]
    return Chart(width, counts.bars(labels, series, width), ticks, names)


def _query(report: Asked) -> str:
    """The report's query string, for its CSV links."""
    query = f"first={report.first}&last={report.last}"
    return f"{query}&ngo={report.referral}" if report.referral else query
