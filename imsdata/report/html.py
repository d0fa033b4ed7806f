"""The report as ONE self-contained HTML file: plotly charts (bundle inlined once), tables in
Indian number format, print-friendly CSS. Opens offline; no network requests."""

from __future__ import annotations

import datetime as dt
import html
import os
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from imsdata.fileio import atomic_open
from imsdata.report.build import Report, ReportTable
from imsdata.report.inr import format_count, format_inr, short_inr
from imsdata.schemas import MatchStatus

if TYPE_CHECKING:  # plotly is imported when a chart is drawn, not with imsdata.report
    import plotly.graph_objects as go

#: Rows of a detail table shown on the page; the Excel workbook has them all.
MAX_HTML_ROWS = 50

ACTION_COLOURS: dict[str, str] = {
    "Accepted": "#2e7d32",
    "Deemed accepted (no action)": "#81c784",
    "Pending": "#f9a825",
    "Rejected": "#c62828",
}
STATUS_COLOURS: dict[str, str] = {
    MatchStatus.EXACT: "#2e7d32",
    MatchStatus.WITHIN_TOLERANCE: "#66bb6a",
    MatchStatus.PROBABLE: "#9ccc65",
    MatchStatus.MISMATCH: "#ef6c00",
    MatchStatus.PAN_MATCH: "#ffa726",
    MatchStatus.MISSING_IN_REGISTER: "#c62828",
    MatchStatus.MISSING_IN_IMS: "#8e24aa",
    "not_reconciled": "#9e9e9e",
}

_HEAD_NAMES = {"igst": "IGST", "cgst": "CGST", "sgst": "SGST", "cess": "cess"}
HEADERS: dict[str, str] = {
    "category": "Category",
    "documents": "Documents",
    "taxable_value": "Taxable value (₹)",
    "igst": "IGST (₹)",
    "cgst": "CGST (₹)",
    "sgst": "SGST/UTGST (₹)",
    "cess": "Cess (₹)",
    "itc": "ITC (₹)",
    "total": "Total (₹)",
    "doc_value": "Document value (₹)",
    "reason": "Reason",
    "amount": "ITC at risk (₹)",
    "line": "Line",
    "section": "Section",
    "section_title": "Section name",
    "action": "Action",
    "match_status": "Reconciliation status",
    "supplier_gstin": "Supplier GSTIN",
    "supplier_name": "Supplier",
    "mismatch_value": "Mismatch value (₹)",
    "earliest_deadline": "Earliest deadline",
    "bucket": "Age",
    "doc_number": "Document",
    "doc_date": "Date",
    "pending_deadline": "Deadline",
    "change": "Change",
    "doc_key": "Document key",
    "previous_doc_value": "Previous value (₹)",
    "previous_itc": "Previous ITC (₹)",
    "itc_change": "ITC change (₹)",
    "deadline": "Deadline",
    "deadline_kind": "Which deadline",
    "days_left": "Days left",
    "supplier_period": "Supplier period",
    "table4_line": "Table 4 line",
    "orig_doc_number": "Original document",
    "itc_reduction": "ITC reduction declared",
    **{f"itc_{h}": f"Full ITC {n} (₹)" for h, n in _HEAD_NAMES.items()},
    **{f"undeclared_{h}": f"Before declaration {n} (₹)" for h, n in _HEAD_NAMES.items()},
}

CSS = """
:root { --ink:#1f2933; --muted:#52606d; --line:#d9e2ec; --band:#f5f7fa; --accent:#0b5394; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       margin: 0; background: #fff; font-size: 14px; line-height: 1.45; }
header { background: var(--accent); color: #fff; padding: 20px 32px; }
header h1 { margin: 0 0 4px; font-size: 24px; font-weight: 600; }
header p { margin: 0; opacity: .9; }
main { padding: 16px 32px 40px; max-width: 1200px; }
section { margin: 28px 0; break-inside: avoid-page; }
h2 { font-size: 18px; border-bottom: 2px solid var(--accent); padding-bottom: 4px;
     margin: 0 0 12px; color: var(--accent); }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px;
        margin: 20px 0; }
.kpi { border: 1px solid var(--line); border-left: 5px solid var(--accent); padding: 10px 12px;
       border-radius: 4px; background: var(--band); }
.kpi .label { color: var(--muted); font-size: 12px; text-transform: uppercase;
              letter-spacing: .03em; }
.kpi .value { font-size: 20px; font-weight: 600; margin-top: 2px; }
.kpi .exact { font-size: 12px; color: var(--muted); }
.kpi.good { border-left-color: #2e7d32; } .kpi.warn { border-left-color: #f9a825; }
.kpi.bad { border-left-color: #c62828; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; vertical-align: top; }
th { background: var(--band); text-align: left; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; background: #eef2f7; }
p.note { color: var(--muted); font-size: 12.5px; margin: 6px 0; }
.chart-below { max-width: 720px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; align-items: start; }
footer { color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
         padding: 12px 32px; }
ul.notes { color: var(--muted); font-size: 13px; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
@media print {
  @page { size: A4; margin: 12mm; }
  body { font-size: 11px; }
  header { background: none; color: var(--ink); border-bottom: 3px solid var(--accent);
           padding: 0 0 8px; }
  main { padding: 0; max-width: none; }
  section, .kpi, tr, .chart-below, .js-plotly-plot { break-inside: avoid; }
  .grid2 { grid-template-columns: 1fr 1fr; }
  th, .kpi, tr.total td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _rupees(text: str) -> str:
    """'-222.72' -> '-₹222.72'."""
    return f"-₹{text[1:]}" if text.startswith("-") else f"₹{text}"


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _cell(value: Any, dtype: pl.DataType) -> tuple[str, bool]:
    """Text of one cell and whether it is numeric (right-aligned)."""
    if isinstance(dtype, pl.Decimal):
        return format_inr(value), True
    if dtype.is_integer():
        return format_count(value), True
    if isinstance(dtype, pl.Date):
        return ("" if value is None else value.strftime("%d-%m-%Y")), True
    return _esc(value), False


def _align(dtype: pl.DataType) -> str:
    return "num" if dtype.is_numeric() or isinstance(dtype, pl.Date) else ""


def table_html(
    frame: pl.DataFrame, *, max_rows: int | None = None, total_last: bool = False
) -> str:
    """An HTML table of a frame: money in Indian format, numbers right-aligned."""
    schema = frame.schema
    heads = "".join(
        f'<th class="{_align(dt_)}">{_esc(HEADERS.get(c, c))}</th>' for c, dt_ in schema.items()
    )
    shown = frame if max_rows is None else frame.head(max_rows)
    rows = []
    for i, row in enumerate(shown.iter_rows()):
        cells = []
        for value, dtype in zip(row, schema.values(), strict=True):
            text, num = _cell(value, dtype)
            cells.append(f'<td class="num">{text}</td>' if num else f"<td>{text}</td>")
        cls = ' class="total"' if total_last and i == shown.height - 1 else ""
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    more = ""
    if max_rows is not None and frame.height > max_rows:
        more = (
            f'<p class="note">Showing the first {max_rows} of {format_count(frame.height)} rows;'
            " the Excel workbook has them all.</p>"
        )
    if frame.height == 0:
        body = f'<tr><td colspan="{len(schema)}">None.</td></tr>'
    else:
        body = "".join(rows)
    return f"<table><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table>{more}"


# --------------------------------------------------------------------------------------------
# charts


def _f(values: list[Decimal | None]) -> list[float]:
    return [float(v or 0) for v in values]


def _inr_ticks(values: list[float]) -> dict[str, list[float] | list[str]]:
    """Axis ticks labelled in lakh/crore (e.g. '₹4.5 L') instead of 450k."""
    top = max([*values, 0.0])
    low = min([*values, 0.0])
    span = top - low
    if span <= 0:
        return {"tickvals": [0.0], "ticktext": ["₹0"]}
    raw = span / 4
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = (low // step) * step
    ticks = []
    v = start
    while v <= top + step / 2:
        ticks.append(v)
        v += step
    return {"tickvals": ticks, "ticktext": [short_inr(Decimal(str(t)), trim=True) for t in ticks]}


def _layout(fig: go.Figure, title: str, *, height: int = 340) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        showlegend=False,
        font={"family": "Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif", "size": 12},
        separators=".,",
    )
    return fig


def _chart_itc(report: Report) -> go.Figure:
    import plotly.graph_objects as go

    itc = report.table("itc_summary").filter(pl.col("category").is_in(list(ACTION_COLOURS)))
    cats = itc["category"].to_list()
    vals = itc["itc"].to_list()
    fig = go.Figure(
        go.Bar(
            x=cats,
            y=_f(vals),
            marker_color=[ACTION_COLOURS[c] for c in cats],
            text=[short_inr(v) for v in vals],
            textposition="auto",
            hovertext=[f"{c}: {_rupees(format_inr(v))}" for c, v in zip(cats, vals, strict=True)],
            hoverinfo="text",
        )
    )
    fig.update_yaxes(title_text="ITC", **_inr_ticks(_f(vals)))
    return _layout(fig, "ITC by action")


def _chart_status(report: Report) -> go.Figure:
    import plotly.graph_objects as go

    rec = report.table("reconciliation").filter(pl.col("documents") > 0)
    st = rec["match_status"].to_list()
    docs = rec["documents"].to_list()
    fig = go.Figure(
        go.Bar(
            y=[s.replace("_", " ") for s in st],
            x=docs,
            orientation="h",
            marker_color=[STATUS_COLOURS.get(s, "#607d8b") for s in st],
            text=[format_count(d) for d in docs],
            textposition="auto",
            hovertext=[
                f"{s}: {format_count(d)} documents, "
                f"{_rupees(format_inr(v)) if v is not None else 'value n/a'}"
                for s, d, v in zip(st, docs, rec["doc_value"].to_list(), strict=True)
            ],
            hoverinfo="text",
        )
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title_text="Documents")
    return _layout(fig, "Reconciliation status (documents)")


def _chart_suppliers(frame: pl.DataFrame, value: str, title: str, colour: str) -> go.Figure:
    import plotly.graph_objects as go

    names = [
        f"{n or g}" if len(n or g) <= 28 else f"{(n or g)[:27]}…"
        for n, g in zip(frame["supplier_name"].to_list(), frame["supplier_gstin"].to_list(),
                        strict=True)
    ]  # fmt: skip
    vals = frame[value].to_list()
    fig = go.Figure(
        go.Bar(
            y=names,
            x=_f(vals),
            orientation="h",
            marker_color=colour,
            text=[short_inr(v) for v in vals],
            textposition="auto",
            hovertext=[
                f"{g}: {_rupees(format_inr(v))}"
                for g, v in zip(frame["supplier_gstin"].to_list(), vals, strict=True)
            ],
            hoverinfo="text",
        )
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(**_inr_ticks(_f(vals)))
    return _layout(fig, title, height=max(260, 40 + 30 * max(frame.height, 1)))


def _chart_ageing(report: Report) -> go.Figure:
    import plotly.graph_objects as go

    age = report.table("pending_ageing")
    vals = age["itc"].to_list()
    fig = go.Figure(
        go.Bar(
            x=age["bucket"].to_list(),
            y=_f(vals),
            marker_color=["#fdd835", "#f9a825", "#ef6c00", "#c62828"],
            text=[f"{format_count(d)} docs" for d in age["documents"].to_list()],
            textposition="auto",
            hovertext=[
                f"{b}: {format_count(d)} documents, ITC {_rupees(format_inr(v))}"
                for b, d, v in zip(age["bucket"], age["documents"], vals, strict=True)
            ],
            hoverinfo="text",
        )
    )
    fig.update_yaxes(title_text="Pending ITC", **_inr_ticks(_f(vals)))
    return _layout(fig, "Pending ITC by age")


class _Charts:
    """Renders figures as <div>s: the plotly.js bundle is inlined with the first one only."""

    def __init__(self) -> None:
        self.count = 0

    def render(self, fig: go.Figure, name: str) -> str:
        first = self.count == 0
        self.count += 1
        return fig.to_html(
            full_html=False,
            include_plotlyjs=first,
            div_id=f"chart-{name}",
            config={"displayModeBar": False, "responsive": True},
            default_width="100%",
        )


# --------------------------------------------------------------------------------------------
# page


def _kpis(report: Report) -> str:
    h: dict[str, Any] = report.headline
    tiles = [
        ("Documents in IMS", format_count(h["documents"]), "", ""),
        ("ITC available", short_inr(h["itc_available"]), format_inr(h["itc_available"]), "good"),
        ("Accepted", short_inr(h["itc_accepted"]), format_inr(h["itc_accepted"]), "good"),
        ("Deemed accepted", short_inr(h["itc_deemed"]), format_inr(h["itc_deemed"]), "good"),
        ("Pending", short_inr(h["itc_pending"]), format_inr(h["itc_pending"]), "warn"),
        ("Rejected", short_inr(h["itc_rejected"]), format_inr(h["itc_rejected"]), "bad"),
        ("ITC at risk", short_inr(h["itc_at_risk"]), format_inr(h["itc_at_risk"]), "bad"),
    ]
    out = []
    for label, value, exact, cls in tiles:
        sub = f'<div class="exact">{_rupees(exact)}</div>' if exact else ""
        out.append(
            f'<div class="kpi {cls}"><div class="label">{_esc(label)}</div>'
            f'<div class="value">{_esc(value)}</div>{sub}</div>'
        )
    return f'<div class="kpis" id="kpis">{"".join(out)}</div>'


def _section(
    t: ReportTable, *, chart: str = "", max_rows: int | None = None, total_last: bool = False
) -> str:
    note = f'<p class="note">{_esc(t.note)}</p>' if t.note else ""
    body = table_html(t.frame, max_rows=max_rows, total_last=total_last)
    if not chart:
        inner = f"{body}{note}"
    elif t.frame.width > 5:  # a wide table: full width, the chart below it
        inner = f'{body}{note}<div class="chart-below">{chart}</div>'
    else:
        inner = f'<div class="grid2"><div>{body}{note}</div><div>{chart}</div></div>'
    return f'<section id="{t.key}"><h2>{_esc(t.title)}</h2>{inner}</section>'


def figures(report: Report) -> dict[str, go.Figure]:
    """The report's plotly charts by table key (for notebooks: `figures(r)["itc_summary"]`).

    Supplier charts are left out when their table is empty.
    """
    figs = {
        "itc_summary": _chart_itc(report),
        "reconciliation": _chart_status(report),
    }
    top_m = report.table("top_mismatch")
    if top_m.height:
        figs["top_mismatch"] = _chart_suppliers(
            top_m, "mismatch_value", "Mismatch value by supplier", "#ef6c00"
        )
    top_p = report.table("top_pending")
    if top_p.height:
        figs["top_pending"] = _chart_suppliers(top_p, "itc", "Pending ITC by supplier", "#f9a825")
    figs["pending_ageing"] = _chart_ageing(report)
    return figs


#: Sections of the page in reading order.
PAGE_ORDER: tuple[str, ...] = (
    "itc_summary", "portal_conflicts", "itc_at_risk", "gstr3b_table4", "reconciliation",
    "top_mismatch",
    "top_pending", "pending_ageing", "by_section_action", "changes", "changes_detail",
    "at_risk_documents",
)  # fmt: skip
#: Detail tables cut to MAX_HTML_ROWS on the page, and columns the page leaves to Excel.
_DETAIL = {
    "changes_detail": ("doc_key",),
    "at_risk_documents": (),
    "portal_conflicts": ("doc_key",),
}


def render_html(report: Report, *, generated_at: dt.datetime | None = None) -> str:
    """The whole page as a string (deterministic apart from the generation timestamp)."""
    generated_at = generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
    charts = _Charts()
    figs = figures(report)
    tables = {t.key: t for t in report.tables}
    parts = [_kpis(report)]
    for key in PAGE_ORDER:
        if key not in tables:
            continue
        table = tables[key]
        chart = charts.render(figs[key], key) if key in figs else ""
        if key in _DETAIL:
            shown = replace(table, frame=table.frame.drop(_DETAIL[key]))
            parts.append(_section(shown, max_rows=MAX_HTML_ROWS))
        else:
            parts.append(_section(table, chart=chart, total_last=key == "itc_at_risk"))
    if report.notes:
        items = "".join(f"<li>{_esc(n)}</li>" for n in report.notes)
        parts.append(f'<section id="notes"><h2>Notes on the data</h2><ul class="notes">{items}'
                     "</ul></section>")  # fmt: skip
    title = f"IMS period-end report · {report.gstin} · {report.period_label}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en-IN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>IMS period-end report</h1><p>GSTIN <strong>{_esc(report.gstin)}</strong>"
        f" · return period <strong>{_esc(report.period_label)}</strong> ({_esc(report.period)})"
        f" · figures as of {report.as_of:%d-%m-%Y} · amounts in ₹</p></header>"
        f"<main>{''.join(parts)}</main>"
        f"<footer>Generated by imsdata at {generated_at:%Y-%m-%d %H:%M:%S %Z}. A working report,"
        " not a return: check GSTR-2B and your books before filing.</footer>"
        "</body></html>\n"
    )


def write_html(
    report: Report, path: str | os.PathLike[str], *, generated_at: dt.datetime | None = None
) -> Path:
    """Write the report as one self-contained HTML file (atomically); return its path."""
    text = render_html(report, generated_at=generated_at)
    with atomic_open(path) as fh:
        fh.write(text)
    return Path(path)
