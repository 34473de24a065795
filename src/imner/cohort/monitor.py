"""Disease monitoring: documents (and distinct ``patient_id``) matching each query, per day, week, month or year.

Dates come from a metadata field (``date`` by default); a usable date starts with YYYY-MM-DD (a time may follow).
Documents without one are counted per query as ``undated``, written as their own CSV rows and named on the
charts, never dropped silently. Weeks are ISO weeks, labelled by their Monday.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from imner.errors import InputError

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
PERIODS = ("day", "week", "month", "year")


def period_start(d: date, by: str) -> date:
    if by == "day":
        return d
    if by == "week":
        return d - timedelta(days=d.weekday())
    if by == "month":
        return d.replace(day=1)
    if by == "year":
        return d.replace(month=1, day=1)
    raise ValueError(f"--by must be one of {', '.join(PERIODS)}, got {by!r}")


def next_period(d: date, by: str) -> date:
    if by == "day":
        return d + timedelta(days=1)
    if by == "week":
        return d + timedelta(days=7)
    if by == "month":
        return date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return date(d.year + 1, 1, 1)


def period_label(d: date, by: str) -> str:
    return {"day": d.isoformat(), "week": d.isoformat(), "month": d.strftime("%Y-%m"), "year": str(d.year)}[by]


def parse_date(value) -> date | None:
    if not isinstance(value, str):
        return None
    m = _DATE.match(value.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


@dataclass
class QuerySeries:
    query: str
    matched: int = 0
    undated: int = 0
    undated_patients: int | None = None
    documents: dict[date, int] = field(default_factory=dict)
    patients: dict[date, int] | None = None


@dataclass
class MonitorTable:
    by: str
    date_field: str
    periods: list[date]
    queries: list[QuerySeries]
    has_patients: bool

    def rows(self) -> list[dict]:
        out = []
        for q in self.queries:
            for p in self.periods:
                out.append({"query": q.query, "period": period_label(p, self.by), "period_start": p.isoformat(),
                            "documents": q.documents.get(p, 0),
                            "patients": (q.patients or {}).get(p, 0) if self.has_patients else ""})
            out.append({"query": q.query, "period": "undated", "period_start": "", "documents": q.undated,
                        "patients": q.undated_patients if self.has_patients else ""})
        return out


def monitor(db, queries: list[str], *, by: str = "month", date_field: str = "date") -> MonitorTable:
    from imner.cohort.language import Vocabulary
    from imner.cohort.search import run_query
    from imner.cohort.store import connect

    if by not in PERIODS:
        raise ValueError(f"by must be one of {', '.join(PERIODS)}, got {by!r}")
    con = connect(db, read_only=True)
    try:
        vocab = Vocabulary(con)
        rows = con.execute("SELECT doc_id, meta FROM documents").fetchall()
        meta = {d: json.loads(m) if m else {} for d, m in rows}
        has_patients = any("patient_id" in m for m in meta.values())
        series = []
        for q in queries:
            res = run_query(con, q, vocab=vocab)
            s = QuerySeries(q, matched=len(res))
            pats: dict[date, set] = {}
            undated_pats: set = set()
            for doc_id in res.doc_ids:
                m = meta.get(doc_id, {})
                d = parse_date(m.get(date_field))
                pid = m.get("patient_id")
                if d is None:
                    s.undated += 1
                    if pid is not None:
                        undated_pats.add(str(pid))
                    continue
                p = period_start(d, by)
                s.documents[p] = s.documents.get(p, 0) + 1
                if pid is not None:
                    pats.setdefault(p, set()).add(str(pid))
            if has_patients:
                s.patients = {p: len(v) for p, v in pats.items()}
                s.undated_patients = len(undated_pats)
            series.append(s)
    finally:
        con.close()
    dated = sorted({p for s in series for p in s.documents})
    periods: list[date] = []
    if dated:
        p = dated[0]
        while p <= dated[-1]:
            periods.append(p)
            p = next_period(p, by)
    return MonitorTable(by, date_field, periods, series, has_patients)


def write_monitor(table: MonitorTable, output: str | Path, *, title: str | None = None) -> Path:
    """Write the table as CSV, a PNG chart or an HTML page (by the suffix); ``title`` for the charts."""
    out = Path(output)
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".png", ".html"):
        raise InputError("the output must end in .csv, .png or .html", source=str(out))
    tmp = out.with_name(out.name + ".tmp" + suffix)
    if suffix == ".csv":
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, ["query", "period", "period_start", "documents", "patients"],
                               lineterminator="\n")
            w.writeheader()
            w.writerows(table.rows())
    elif suffix == ".png":
        _png(table, tmp, title or f"documents per {table.by}")
    else:
        _html(table, tmp, title or f"documents per {table.by}")
    tmp.replace(out)
    return out


def _undated_note(table: MonitorTable) -> str:
    return "; ".join(f"{q.query}: {q.undated} of {q.matched} without a usable {table.date_field!r}"
                     for q in table.queries)


def _png(table: MonitorTable, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    for q in table.queries:
        ax.plot(table.periods, [q.documents.get(p, 0) for p in table.periods], marker="o", ms=3, label=q.query)
    ax.set_ylabel("documents")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left")
    fig.text(0.01, 0.01, "undated, not plotted: " + _undated_note(table), fontsize=7, wrap=True)
    fig.autofmt_xdate()
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, format="png")
    plt.close(fig)


def _html(table: MonitorTable, path: Path, title: str) -> None:
    import html

    import plotly.graph_objects as go

    fig = go.Figure()
    x = [period_label(p, table.by) for p in table.periods]
    for q in table.queries:
        fig.add_trace(go.Scatter(x=x, y=[q.documents.get(p, 0) for p in table.periods], mode="lines+markers",
                                 name=f"{q.query} (documents)"))
        if table.has_patients:
            fig.add_trace(go.Scatter(x=x, y=[(q.patients or {}).get(p, 0) for p in table.periods],
                                     mode="lines", line={"dash": "dot"}, name=f"{q.query} (patients)"))
    fig.update_layout(title=title, yaxis_title="count", template="plotly_white")
    body = fig.to_html(full_html=False, include_plotlyjs=True)  # plotly.js inline: the page works offline
    rows = "".join(f"<tr><td>{html.escape(q.query)}</td><td>{q.matched}</td><td>{q.undated}</td></tr>"
                   for q in table.queries)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>imner monitor</title></head><body>"
            f"<h1>imner monitor: {html.escape(title)}</h1>{body}"
            f"<h2>Documents without a usable {html.escape(table.date_field)!s}</h2>"
            f"<p>Counted here and in the CSV, not plotted.</p><table border='1' cellpadding='4'>"
            f"<tr><th>query</th><th>matched</th><th>undated</th></tr>{rows}</table></body></html>")
    path.write_text(page, encoding="utf-8")
