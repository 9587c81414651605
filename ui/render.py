"""Render an Answer for the chat: figure badges in the text, and the sources panel with the quote highlighted."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

from rag.types import Answer, CheckedFigure, Citation, DocumentMeta, DocumentRecord

BADGE = {"verified": "✅", "quoted": "🔎", "derived": "🧮", "unverified": "⚠️"}
_MARK = re.compile(r"\\\[(\d+)\\\]")  # a marker [n] after md_escape
# Markdown's active characters (CommonMark lets any ASCII punctuation be backslash-escaped); with [ and ] escaped
# no link, image or link definition can form, with < escaped (after html.escape) no tag or autolink.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!~])")


def answer_markdown(answer: Answer) -> str:
    """The answer as chat Markdown: each figure followed by its badge, [n] linked to its source, then a figure
    summary in which an unverified figure is shouted (nobody should miss it)."""
    if answer.error:
        return f"**Error:** {md_escape(answer.error)}"
    text = md_escape(answer.answer)
    text = _badge_figures(text, answer.figures)
    text = _MARK.sub(lambda m: f"[[{m.group(1)}]](#source-{m.group(1)})", text)
    parts = []
    if answer.notice:
        parts.append(f"> ℹ️ {md_escape(answer.notice)}")
    parts.append(text)
    if answer.figures:
        lines = []
        for f in answer.figures:
            cite = f" [{f.citation}]" if f.citation else ""
            if f.status == "verified":
                lines.append(f"✅ {md_escape(f.text)}{cite} — quoted in its source")
            elif f.status == "quoted":
                lines.append(f"🔎 {md_escape(f.text)}{cite} — quoted, not matched: {md_escape(f.reason)}")
            elif f.status == "derived":
                lines.append(f"🧮 {md_escape(f.text)}{cite} — computed: {md_escape(f.arithmetic)}")
            else:
                lines.append(f"⚠️ **UNVERIFIED: {md_escape(f.text)}**{cite} — {md_escape(f.reason)}")
        parts.append("**Figures:** " + " · ".join(lines))
    return "\n\n".join(parts)


def stream_markdown(text: str) -> str:
    """Text still streaming in (model tokens, or the extractive answer word by word), shown as plain text."""
    return md_escape(text)


def _badge_figures(text: str, figures: tuple[CheckedFigure, ...]) -> str:
    pos = 0
    out = []
    for f in figures:
        needle = md_escape(f.text)
        i = text.find(needle, pos)
        if i < 0:
            continue
        end = i + len(needle)
        label = f"**{needle}**" if f.status == "unverified" else needle
        out.append(text[pos:i] + label + f" {BADGE[f.status]}")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def md_escape(text: str) -> str:
    """Text from documents, users or models shown as text in Markdown: no HTML (tags and entities are escaped),
    and no emphasis, code, heading, table, link, image or link definition (their characters are escaped)."""
    text = html.escape(text, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text)



def sources_html(answer: Answer | None, *, doc_url: dict[str, str] | None = None) -> str:
    """The sources panel: per citation its document, type, date, page, a link to the PDF page, and the passage
    with the quoted sentence highlighted. Every piece of document text is HTML-escaped."""
    if answer is None or not answer.citations:
        return "<div class='sources-empty'>Sources of the answer appear here.</div>"
    blocks = [_source_block(c, (doc_url or {}).get(c.source, "")) for c in answer.citations]
    return "<div class='sources'>" + "".join(blocks) + "</div>"


def _source_block(c: Citation, url: str) -> str:
    meta = " · ".join(x for x in (c.doc_type, c.date, f"page {c.page}" if c.page else "", c.section) if x)
    link = ""
    if url and Path(c.source).suffix.lower() == ".pdf":  # the browser's PDF viewer opens it at the page
        target = f"{url}#page={c.page}" if c.page else url
        label = f"open page {c.page}" if c.page else "open document"
        link = f" · <a href='{html.escape(target, quote=True)}' target='_blank' rel='noopener noreferrer'>{label}</a>"
    elif url:  # any other copy is only ever a download (see ui/serve.py)
        link = f" · <a href='{html.escape(url, quote=True)}' download rel='noopener noreferrer'>download document</a>"
    passage = highlight(c.chunk_text or c.quote, c.quote)
    return (
        f"<details class='source' id='source-{c.n}' open><summary><b>[{c.n}] {html.escape(c.title)}</b></summary>"
        f"<div class='source-meta'>{html.escape(meta)} · {html.escape(Path(c.source).name)}{link}</div>"
        f"<blockquote class='source-text'>{passage}</blockquote></details>"
    )


def highlight(passage: str, quote: str) -> str:
    """The passage, escaped, with each quoted sentence (or table row) inside <mark>."""
    pieces = [p for p in re.split(r"(?<=[.。!?！？])\s+|\n", quote) if p.strip()]
    spans: list[tuple[int, int]] = []
    flat = passage
    for piece in pieces:
        target = " ".join(piece.split())
        i = _find_loose(flat, target)
        if i is not None:
            spans.append(i)
    spans.sort()
    out, pos = [], 0
    for a, b in spans:
        if a < pos:
            continue
        out.append(html.escape(flat[pos:a]))
        out.append(f"<mark>{html.escape(flat[a:b])}</mark>")
        pos = b
    out.append(html.escape(flat[pos:]))
    return "".join(out).replace("\n", "<br>")


def _find_loose(text: str, target: str) -> tuple[int, int] | None:
    """Where ``target`` occurs in ``text`` when runs of white space may differ."""
    if not target:
        return None
    pattern = r"\s+".join(re.escape(w) for w in target.split())
    m = re.search(pattern, text)
    return (m.start(), m.end()) if m else None


def documents_rows(records: Sequence[DocumentRecord]) -> list[list[object]]:
    """The documents table; every cell is plain text (Gradio shows a "str" cell as text, never as Markdown)."""
    return [
        [plain(r.meta.title), plain(r.meta.company), plain(r.meta.form), plain(period_text(r.meta)),
         plain(r.meta.doc_type), plain(r.meta.date), plain(r.meta.language), r.pages or "", r.chunks,
         r.added_at[:16], plain(Path(r.source).name), plain(", ".join(r.meta.corrected))]
        for r in records
    ]


def period_text(m: DocumentMeta) -> str:
    """"FY2022 to 2022-09-24", "Q2 2023", "H1 2025", or ""."""
    if not (m.period_type or m.fiscal_year):
        return ""
    label = f"{m.period_type}{'' if m.period_type == 'FY' else ' '}{m.fiscal_year or ''}".strip()
    return f"{label} to {m.period_end}" if m.period_end else label


def plain(text: object) -> str:
    """One line of text: control characters (newlines included) shown escaped, so no cell or label forges lines."""
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in str(text or ""))
