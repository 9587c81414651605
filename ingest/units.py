"""The unit a page states for its tables when a table's own header does not: "(Tabular amounts in millions,
unless otherwise disclosed)" at the top of a filing's notes, "NOTES TO CONSOLIDATED FINANCIAL STATEMENTS (in
thousands, except per share data)", a caption "... by geographic area (in thousands):" printed after its table,
"单位：万元".

Each page gets the note it states, when all the notes it states give one scale and currency; a page that states
none gets the document's, when the whole document states one. Chunks carry the note (``Chunk.unit_note``) and the
table readers and the figure check read a header without a unit with it (``rag.tables.figures_in``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.tabular import parse_unit
from rag.types import Page

# "(in thousands", "(Tabular amounts in millions", "(Dollars in millions", "($ in thousands", "单位：人民币万元"
_NOTE = re.compile(r"\((?:tabular\s)?(?:amounts\s|dollars\s|figures\s)?(?:[$€£]\s?|US\$\s?|RMB\s?|HK\$\s?)?in\s"
                   r"(?:thousands|millions|billions)\b[^)\n]{0,80}|单位\s?[:：]\s?[^\n|]{1,24}", re.IGNORECASE)


def notes_of(text: str) -> list[str]:
    """The unit notes a text writes, as written."""
    return [m.group() for m in _NOTE.finditer(text)]


def _one(notes: Sequence[str]) -> str:
    """The first note when every note gives the same currency and scale, else ""."""
    readings = {parse_unit(n)[:2] for n in notes}
    return notes[0] if len(readings) == 1 else ""


def page_notes(pages: Sequence[Page]) -> list[str]:
    """Per page, the unit note its tables are read with when their headers state none ("" for none)."""
    found = [notes_of(p.text) for p in pages]
    whole = _one([n for notes in found for n in notes])
    return [_one(notes) if notes else whole for notes in found]
