"""A replay's report: as text for the terminal, and as one self-contained HTML file (no scripts, no remote
loads, every ticket text escaped) with both configurations side by side and every case."""

from __future__ import annotations

import html

from copilot.assist.replay import CaseScore, ReplayReport
from copilot.evaluation.grounding import CHECK


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _figure_name(key: str, report: ReplayReport) -> str:
    """The two counts of unsupported sentences say who counted them: "lexical" and "judge: MODEL"."""
    if key == f"unsupported_sentences_{CHECK}":
        return f"unsupported sentences ({CHECK})"
    if key == "unsupported_sentences_judge":
        return f"unsupported sentences ({report.judge})"
    return key


def figure_rows(report: ReplayReport) -> list[tuple[str, str, str, str]]:
    """(figure, baseline, candidate, change) for every figure of the two configurations."""
    rows = []
    for key, d in report.differences().items():
        change = d["change"]
        shown = f"{change:+,}" if isinstance(change, int) else f"{change:+.4g}" if change else ""
        rows.append((_figure_name(key, report), _cell(d["baseline"]), _cell(d["candidate"]), shown if change else ""))
    return rows


def counted_by(report: ReplayReport) -> str:
    if not report.judge:
        return f"{CHECK} check"
    return f"{CHECK} check and {report.judge}; the verdict counts the judge's"


def verdict_line(report: ReplayReport) -> str:
    worse = report.worse_cases
    named = ", ".join(f"#{c.number}" for c in worse) or "none"
    line = (
        f"Verdict: {report.verdict.upper()} — {len(worse)} of {report.cases} cases got worse "
        f"(allowed {report.allowed_worse} at tolerance {report.tolerance:g}); worse: {named}."
    )
    failed = report.judge_failed
    if failed:
        line += f" Judge failed on {len(failed)}: " + ", ".join(f"#{n}" for n in failed) + "."
    return line


def _cases(numbers: list[int], shown: int = 12) -> str:
    """ "#1, #2, #3" (with "and N more" past `shown`), "1 case" or "N cases" said first."""
    listed = ", ".join(f"#{n}" for n in numbers[:shown])
    more = f" and {len(numbers) - shown} more" if len(numbers) > shown else ""
    return f"{len(numbers)} case{'s' if len(numbers) != 1 else ''} ({listed}{more})"


def render_text(report: ReplayReport) -> str:
    rows = [("", report.baseline.label, report.candidate.label, "change"), *figure_rows(report)]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"Replay of '{report.set_name}', {report.cases} cases (unsupported sentences: {counted_by(report)})", ""]
    lines += ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]
    if report.worse_cases:
        lines += ["", "Cases that got worse:"]
        lines += [f"  #{c.number} {c.subject[:60]}: {'; '.join(c.worse)}" for c in report.worse_cases]
    better = [c for c in report.changes if c.better and not c.worse]
    if better:
        lines += ["", "Cases that got better: " + ", ".join(f"#{c.number}" for c in better)]
    if report.judge_failed:
        lines += ["", f"Judge failed ({report.judge}); these cases count the lexical check only:"]
        for run in (report.baseline, report.candidate):
            # One line per reason: a judge that is down fails every case the same way (50 lines said nothing more).
            reasons: dict[str, list[int]] = {}
            for c in run.cases:
                if c.judge_failed:
                    reasons.setdefault(c.judge_failed, []).append(c.number)
            for reason, numbers in reasons.items():
                lines.append(f"  {run.label}, {_cases(numbers)}: {reason}")
    lines += ["", verdict_line(report)]
    return "\n".join(lines) + "\n"


STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ddd; padding: 4px 8px;
vertical-align: top; text-align: left; } th { background: #f5f5f5; }
.verdict { font-size: 18px; padding: 8px 12px; border-radius: 6px; display: inline-block; }
.pass { background: #e6f4ea; } .fail { background: #fce8e6; } .worse td { background: #fff4f2; }
.draft { white-space: pre-wrap; max-width: 460px; font-size: 13px; } .dim { color: #777; }
"""


def _table(headers: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        f'<tr class="{(classes or [""] * len(rows))[i]}">' + "".join(f"<td>{c}</td>" for c in row) + "</tr>"
        for i, row in enumerate(rows)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _case_cell(s: CaseScore, judge: str) -> str:
    marks = [
        f"article {'✓' if s.articles_ok else '✗'}" if s.articles_ok is not None else "",
        f"intent {'✓' if s.intent_ok else '✗ ' + (s.intent or 'unsure')}" if s.intent_ok is not None else "",
        "missing " + ", ".join(s.missing) if s.missing else "",
        "says " + ", ".join(s.must_not_hits) if s.must_not_hits else "",
        f"{len(s.unsupported)} unsupported ({CHECK})" if s.unsupported else "",
        f"{len(s.judge_unsupported)} unsupported ({judge})" if s.judge_unsupported else "",
        s.judge_failed,
    ]
    facts = html.escape(" · ".join(m for m in marks if m))
    said = {u: [CHECK] for u in s.unsupported}
    for u in s.judge_unsupported or ():
        said.setdefault(u, []).append(judge)
    unsupported = "".join(f"<li>{html.escape(u)} <span class='dim'>({html.escape(', '.join(by))})</span></li>"
                          for u, by in said.items())  # fmt: skip
    judged = f" · {judge}: ${s.judge_cost_usd:.4f}, {s.judge_tokens} tokens" if judge else ""
    return (
        f"<div>{facts}</div><div class='dim'>${s.cost_usd:.4f} · {s.tokens} tokens · {s.seconds:.2f} s"
        f"{html.escape(judged)}</div>"
        f"<div class='draft'>{html.escape(s.draft)}</div>" + (f"<ul>{unsupported}</ul>" if unsupported else "")
    )


def render_html(report: ReplayReport, title: str = "Replay before a switch") -> str:
    base, cand = report.baseline, report.candidate
    figures = _table(
        ["figure", base.label, cand.label, "change"],
        [[html.escape(c) for c in row] for row in figure_rows(report)],
    )
    worse_numbers = {c.number for c in report.worse_cases}
    changes = {c.number: c for c in report.changes}
    rows, classes = [], []
    for b, c in zip(base.cases, cand.cases, strict=True):
        change = changes.get(b.number)
        why = "; ".join([*change.worse, *change.better]) if change else ""
        rows.append([f"#{b.number}", _case_cell(b, report.judge), _case_cell(c, report.judge), html.escape(why)])
        classes.append("worse" if b.number in worse_numbers else "")
    verdict_class = "pass" if report.verdict == "not worse" else "fail"
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}: set '{html.escape(report.set_name)}', "
        f"{report.cases} cases</h1>"
        f"<p class='verdict {verdict_class}' id='verdict'>{html.escape(verdict_line(report))}</p>"
        f"<p class='dim'>Unsupported sentences come from a built-in {CHECK} check: a sentence most of whose "
        "content words appear neither in the cited articles, the suggested titles nor the thread (English drafts only)."
        + (
            f" Beside it, {html.escape(report.judge)} read each draft with its cited articles and the thread; the "
            "verdict counts the judge's, and a case the judge failed on is named, never counted as supported. "
            "The judge's cost and tokens are its own figures, not the configuration's."
            if report.judge
            else ""
        )
        + "</p>"
        f"<h2>Figures</h2>{figures}<h2>Every case</h2>"
        + _table(["case", base.label, cand.label, "what changed"], rows, classes)
        + "</body></html>\n"
    )
