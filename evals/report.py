"""Eval reports: the JSON with every detail, an HTML page a person would rather look at, and comparisons."""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from evals.harness import METRICS, SuiteReport, compute_metrics


def to_json(suites: Sequence[SuiteReport], *, settings: dict[str, Any]) -> dict[str, Any]:
    """The report object: top-level ``metrics`` (all questions pooled), per-suite metrics, and ``questions``."""
    questions = [q for s in suites for q in s.questions]
    return {
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "settings": settings,
        "metrics": compute_metrics(questions),
        "suites": {s.name: {"metrics": s.metrics, "seconds": round(s.seconds, 2), "k": s.k} for s in suites},
        "questions": [{"suite": s.name, **asdict(q)} for s in suites for q in s.questions],
    }


def redact_report(report: Any, secrets: Sequence[str]) -> Any:
    """A copy of the report with each secret (an API key an endpoint's error message quoted into a notice)
    replaced by ``[redacted]`` in every string."""
    if isinstance(report, str):
        for secret in secrets:
            report = report.replace(secret, "[redacted]")
        return report
    if isinstance(report, dict):
        return {k: redact_report(v, secrets) for k, v in report.items()}
    if isinstance(report, list | tuple):
        return [redact_report(v, secrets) for v in report]
    return report


def write_report(report: dict[str, Any], folder: Path, *, secrets: Sequence[str] = ()) -> tuple[Path, Path]:
    """Write report.json and report.html into ``folder``, without the given secrets."""
    if secrets:
        report = redact_report(report, secrets)
    folder.mkdir(parents=True, exist_ok=True)
    js = folder / "report.json"
    js.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    page = folder / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    return js, page


def summary_table(report: dict[str, Any]) -> str:
    """A plain-text table of the main metrics per suite, for the terminal."""
    cols = ["suite", "n", *METRICS, "p50 ms", "p95 ms"]
    rows = []
    for name, s in [*report["suites"].items(), ("ALL", {"metrics": report["metrics"]})]:
        m = s["metrics"]
        rows.append([name, f"{int(m.get('questions', 0))}", *[_fmt(m.get(k)) for k in METRICS],
                     _fmt(m.get("latency_total_p50_ms"), 0), _fmt(m.get("latency_total_p95_ms"), 0)])
    widths = [max(len(str(r[i])) for r in [cols, *rows]) for i in range(len(cols))]
    lines = ["  ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)) for r in [cols, *rows]]
    return "\n".join(lines)


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "-"
    return f"{v:.{digits}f}"


def parse_thresholds(items: Sequence[str]) -> dict[str, float]:
    """``figure_accuracy=0.95`` items into a dict, naming the item that is wrong."""
    out: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in METRICS:
            raise ValueError(f"--fail-under {item!r}: use METRIC=VALUE with METRIC one of {', '.join(METRICS)}")
        try:
            out[key] = float(value)
        except ValueError as exc:
            raise ValueError(f"--fail-under {item!r}: {value!r} is not a number") from exc
    return out


def failed_thresholds(report: dict[str, Any], thresholds: dict[str, float]) -> list[str]:
    """Each threshold a suite (or the pooled run) falls under, as a sentence."""
    out = []
    for name, s in [*report["suites"].items(), ("ALL", {"metrics": report["metrics"]})]:
        for key, floor in thresholds.items():
            value = s["metrics"].get(key)
            if value is not None and value < floor:
                out.append(f"{name}: {key} = {value:.3f} is under {floor:g}")
    return out


def compare(a: dict[str, Any], b: dict[str, Any]) -> str:
    """What got better or worse from report A to report B: metrics, then question by question."""
    lines = ["metric                       A        B        change"]
    for key in [*METRICS, "unverified_figures", "latency_total_p50_ms", "latency_total_p95_ms"]:
        va, vb = a["metrics"].get(key), b["metrics"].get(key)
        if va is None and vb is None:
            continue
        change = "" if va is None or vb is None else f"{vb - va:+.3f}"
        lines.append(f"{key:<28} {_fmt(va):<8} {_fmt(vb):<8} {change}")
    qa = {(q["suite"], q["id"]): q for q in a["questions"]}
    qb = {(q["suite"], q["id"]): q for q in b["questions"]}
    better = [k for k in qb if k in qa and qb[k]["passed"] and not qa[k]["passed"]]
    worse = [k for k in qb if k in qa and qa[k]["passed"] and not qb[k]["passed"]]
    lines.append("")
    lines.append(f"{len(better)} question(s) now pass, {len(worse)} now fail, "
                 f"{len([k for k in qb if k not in qa])} new, {len([k for k in qa if k not in qb])} gone.")
    for k in worse:
        lines.append(f"  WORSE  {k[0]}/{k[1]}: {'; '.join(qb[k]['why'])}")
    for k in better:
        lines.append(f"  BETTER {k[0]}/{k[1]}")
    return "\n".join(lines)


# -- HTML ------------------------------------------------------------------------------------------------------
def render_html(report: dict[str, Any]) -> str:
    e = html.escape
    suites_rows = []
    for name, s in [*report["suites"].items(), ("all suites", {"metrics": report["metrics"]})]:
        m = s["metrics"]
        cells = "".join(f"<td class='{_grade(m.get(k))}'>{_fmt(m.get(k))}</td>" for k in METRICS)
        suites_rows.append(f"<tr><th>{e(name)}</th><td>{int(m.get('questions', 0))}</td>{cells}"
                           f"<td>{_fmt(m.get('unverified_figures'), 0)}</td>"
                           f"<td>{_fmt(m.get('latency_total_p50_ms'), 0)}</td>"
                           f"<td>{_fmt(m.get('latency_total_p95_ms'), 0)}</td></tr>")
    head = "".join(f"<th>{e(k)}</th>" for k in ("suite", "n", *METRICS, "unverified", "p50 ms", "p95 ms"))
    questions = sorted(report["questions"], key=lambda q: (q["passed"], q["suite"], q["id"]))
    blocks = [_question_html(q) for q in questions]
    latencies = [q["timings_ms"].get("total", 0.0) for q in report["questions"]]
    bars = "".join(_bar_chart(report["suites"]))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sectorchat eval report</title>
<style>
body{{font-family:system-ui,sans-serif;margin:24px;max-width:1200px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ddd;padding:4px 8px;text-align:right}} th{{background:#f6f6f6}}
.good{{background:#e6f6e6}} .mid{{background:#fff6d6}} .bad{{background:#fde2e2}}
.q{{border:1px solid #ddd;border-radius:6px;padding:8px 12px;margin:10px 0}} .q.fail{{border-color:#e88}}
.why{{color:#b00}} .quote{{border-left:3px solid #ccc;padding-left:8px;color:#333;white-space:pre-wrap}}
.unverified{{color:#b00;font-weight:bold}}
</style></head><body>
<h1>sectorchat eval report</h1><p>Created {e(report['created'])}. Settings: {e(json.dumps(report['settings']))}</p>
<h2>Metrics per suite</h2><table><tr>{head}</tr>{''.join(suites_rows)}</table>
<h2>Metrics chart</h2>{bars}
<h2>Latency (total per question, ms)</h2>{_histogram(latencies)}
<h2>Questions (failures first)</h2>{''.join(blocks)}
</body></html>"""


def _grade(v: float | None) -> str:
    if v is None:
        return ""
    return "good" if v >= 0.95 else ("mid" if v >= 0.7 else "bad")


def _question_html(q: dict[str, Any]) -> str:
    e = html.escape
    expected = ", ".join(f"{x['value']:g} {x['unit']}{' (computed)' if x.get('status') == 'derived' else ''}"
                         for x in q["expected"]) or ("a refusal" if q["kind"] == "unanswerable" else "—")
    figs = " ".join(
        f"<span class='{e(f['status'])}'>{e(f['text'])} ({e(f['status'])}{': ' + e(f['reason']) if f.get('reason') else ''})"
        "</span>" for f in q["figures"])
    cites = "".join(f"<div class='quote'>[{e(str(c['n']))}] {e(c['source'])}{', page ' + e(str(c['page'])) if c['page'] else ''}: "
                    f"{e(c['quote'])}</div>" for c in q["citations"])
    why = f"<div class='why'>{e('; '.join(q['why']))}</div>" if q["why"] else ""
    status = "PASS" if q["passed"] else "FAIL"
    return (f"<div class='q {'pass' if q['passed'] else 'fail'}'><b>{status}</b> {e(q['suite'])} / {e(q['id'])}"
            f" ({e(q['kind'])}{', ' + e(q['category']) if q['category'] else ''})<br><b>Q:</b> {e(q['question'])}"
            f"<br><b>Expected:</b> {e(expected)}<br><b>Answered:</b> {e(q['answer'])}<br>"
            f"<b>Figures:</b> {figs or '—'}{why}{cites}</div>")


def _bar_chart(suites: dict[str, Any]) -> list[str]:
    out = []
    for name, s in suites.items():
        bars = []
        for i, key in enumerate(METRICS):
            v = s["metrics"].get(key)
            if v is None:
                continue
            w = int(300 * max(0.0, min(1.0, v)))
            bars.append(f"<g transform='translate(0,{i * 22})'><text x='0' y='14' font-size='12'>{key}</text>"
                        f"<rect x='170' y='3' width='{w}' height='14' fill='#4a8'/>"
                        f"<text x='{175 + w}' y='14' font-size='12'>{v:.3f}</text></g>")
        out.append(f"<h3>{html.escape(name)}</h3><svg width='560' height='{len(METRICS) * 22}'>{''.join(bars)}</svg>")
    return out


def _histogram(values: list[float], buckets: int = 12) -> str:
    if not values:
        return "<p>—</p>"
    hi = max(values) or 1.0
    counts = [0] * buckets
    for v in values:
        counts[min(buckets - 1, int(v / hi * buckets))] += 1
    top = max(counts)
    bars = "".join(
        f"<rect x='{i * 40}' y='{120 - int(100 * c / top)}' width='34' height='{int(100 * c / top)}' fill='#48a'/>"
        f"<text x='{i * 40}' y='135' font-size='10'>{hi * i / buckets:.0f}</text>"
        f"<text x='{i * 40 + 10}' y='{115 - int(100 * c / top)}' font-size='10'>{c}</text>"
        for i, c in enumerate(counts))
    return f"<svg width='{buckets * 40}' height='140'>{bars}</svg>"
