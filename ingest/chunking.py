"""Sentence-aware chunking bounded in model tokens, with page, section and table-header provenance."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from ingest.units import page_notes
from rag.text import cells as _cells
from rag.text import is_header_row, is_separator_row, is_table_line, split_sentences, table_gaps
from rag.text import strip_span as _strip_span
from rag.types import Chunk, LoadedDocument, Page

logger = logging.getLogger(__name__)

_WINDOW_CHARS_PER_TOKEN = 32  # a window holds several chunks even of English (about 5 characters a token)
_COUNT_BATCH = 256  # units counted per call: the tokenizer's working memory stays small on a huge page
MAX_SECTION = 200  # characters of a heading kept as the section name that every chunk under it carries
_TERMINAL = re.compile(r"[.。!?！？:：;；]$")
# A statement's period line ("For the Years Ended May 31, 2023, 2022 and 2021", "As of December 31, 2022") is the
# subtitle of the heading above it, not a heading: the statement's rows stay under "Consolidated Statements of ...".
_PERIOD_LINE = re.compile(r"^(?:for\s(?:the\s)?(?:fiscal\s)?(?:years?|quarters?|periods?|(?:three|six|nine|twelve)\smonths|"
                          r"\w+\sweeks)\s(?:ended|ending)|as\s(?:of|at)\s|(?:fiscal\s)?years?\sended\s|"
                          r"(?:three|six|nine|twelve)\smonths\sended\s)", re.IGNORECASE)

TokenCounter = Callable[[list[str]], list[int]]
TokenOffsets = Callable[[str], list[tuple[int, int]]]


@dataclass
class _Unit:
    """A piece that is never split further: a sentence (or a slice of an overlong one), or a table row."""

    start: int
    end: int
    tokens: int


@dataclass
class _Block:
    kind: str  # "prose" | "table"
    section: str
    units: list[_Unit] = field(default_factory=list)
    header: tuple[int, int] | None = None  # span of a table's header line(s) in the page text
    header_text: str = ""
    columns: int = 0
    lead_start: int | None = None  # start of a heading line that precedes the table


def markdown_heading(line: str) -> str | None:
    r"""The text of a Markdown ATX heading ("## Results ##" -> "Results"), else None.

    A scan rather than a regular expression: one with quantifiers on both sides of the text
    (``^#{1,6}\s+(.+?)\s*#*\s*$``) backtracks cubically over a heading padded with spaces.
    """
    s = line.strip()
    level = len(s) - len(s.lstrip("#"))
    if not 1 <= level <= 6 or level == len(s) or not s[level].isspace():
        return None
    text = s[level:].lstrip()
    # Closing hashes go, with the white space before them; a heading that is only hashes keeps one.
    return text.rstrip("#").rstrip() or text[0]


def is_heading(line: str, prev: str | None, nxt: str | None) -> str | None:
    """The heading text when ``line`` is a heading (Markdown ``#`` or a short title-like line), else None."""
    s = line.strip()
    md = markdown_heading(s)
    if md is not None:
        return md
    if len(s) > 100:  # too long for either kind of title-like line below: spare a long line the scans
        return None
    if not s or nxt is None or not nxt.strip() or is_table_line(s):
        return None
    p = (prev or "").strip()
    if len(p) > 60 and not _TERMINAL.search(p) and not is_table_line(p):
        return None  # the tail of a wrapped sentence, not a heading
    if _TERMINAL.search(s) or s.endswith((",", "，", "、")) or s[-1] in "!！?？":
        return None
    if re.search(r"[:：]\s*\S", s) or len(re.findall(r"\d", s)) * 3 > len(s) or _PERIOD_LINE.match(s):
        return None  # "Stock code: 9999", "Published 2026-03-20": labels and dates, not headings
    cjk = len(re.findall(r"[\u4e00-\u9fff]", s))
    if cjk:
        return s if len(s) <= 30 and not re.search(r"[，。；]", s) else None
    words = s.split()
    if len(s) > 100 or len(words) > 14 or not s[0].isupper():
        return None
    small = {"a", "an", "the", "and", "or", "of", "in", "on", "for", "to", "at", "by", "with", "from", "as", "vs"}
    capitalised = sum(1 for w in words if w[0].isupper() or not w[0].isalpha() or w.lower() in small)
    return s if capitalised >= 0.8 * len(words) else None


class Chunker:
    """Cuts a loaded document into chunks of at most ``max_tokens`` model tokens.

    Args:
        count_tokens: model-token counts of a batch of texts.
        token_offsets: character spans of the model tokens of one text (to cut an overlong sentence).
        max_tokens: the largest chunk.
        overlap: tokens of trailing sentences repeated at the start of the next prose chunk.
    """

    def __init__(self, count_tokens: TokenCounter, token_offsets: TokenOffsets, *, max_tokens: int, overlap: int):
        if overlap >= max_tokens:
            raise ValueError("overlap must be less than max_tokens.")
        self.count_tokens = count_tokens
        self.token_offsets = token_offsets
        self.max_tokens = max_tokens
        self.overlap = overlap
        # Characters of text tokenised at once when a sentence has to be cut: far longer than any sentence, so
        # only a page-long run without sentence ends is cut window by window.
        self.window = max_tokens * _WINDOW_CHARS_PER_TOKEN

    def chunk(self, doc: LoadedDocument, *, warnings: list[str] | None = None) -> list[Chunk]:
        """The document's chunks, in order.

        Args:
            doc: the loaded document.
            warnings: where to add what was cut (a section heading too long to carry on every chunk); logged
                when not given.
        """
        return list(self.iter_chunks(doc, warnings=warnings))

    def iter_chunks(self, doc: LoadedDocument, *, warnings: list[str] | None = None) -> Iterator[Chunk]:
        """The document's chunks, in order, made as they are taken: a caller that writes them in groups holds
        one group's text at a time, not the whole document's (a 50 MB single line is 250k chunks). The
        warnings are complete once the iterator is exhausted."""
        seen: dict[str, int] = {}
        section = ""
        carried_header: tuple[str, int] | None = None  # (header text, columns) of the last table seen
        notes: list[str] = []
        ordinal = 0
        units = page_notes(doc.pages)
        for page, unit in zip(doc.pages, units, strict=True):
            blocks, section, carried_header = self._blocks(page.text, section, carried_header, notes)
            for block in blocks:
                for start, end, text, prefixed in self._pack(page.text, block):
                    chunk = self._make(doc, page, block.section, start, end, text, prefixed, ordinal, seen)
                    yield replace(chunk, unit_note=unit) if unit and " | " in text else chunk
                    ordinal += 1
        if warnings is not None:
            warnings.extend(notes)
        else:
            for note in notes:
                logger.warning("%s: %s", doc.source, note)

    # -- page -> blocks --------------------------------------------------------------------------------------
    def _blocks(
        self, text: str, section: str, carried: tuple[str, int] | None, notes: list[str]
    ) -> tuple[list[_Block], str, tuple[str, int] | None]:
        lines: list[tuple[int, int]] = []
        pos = 0
        for raw in text.split("\n"):
            lines.append((pos, pos + len(raw)))
            pos += len(raw) + 1
        blocks: list[_Block] = []
        para: list[tuple[int, int]] = []
        table: list[tuple[int, int]] = []
        lead: tuple[int, int] | None = None  # a heading line, kept with the block that follows it
        first_block_on_page = True

        def flush_para() -> None:
            nonlocal carried, first_block_on_page
            if para:
                blocks.append(_Block("prose", section, units=[_Unit(para[0][0], para[-1][1], 0)]))
                para.clear()
                carried = None  # only a table that ends a page can continue on the next one
                first_block_on_page = False

        def flush_lead() -> None:
            nonlocal lead
            if lead is not None:
                blocks.append(_Block("prose", section, units=[_Unit(lead[0], lead[1], 0)]))
                lead = None

        def flush_table() -> None:
            nonlocal carried, first_block_on_page, lead
            if not table:
                return
            first = text[table[0][0] : table[0][1]]
            if len(table) == 1 and is_header_row(first):
                # One " | " line with no rows under it is text that uses bars ("news A | news B"), not a table.
                start = lead[0] if lead is not None else table[0][0]
                lead = None
                blocks.append(_Block("prose", section, units=[_Unit(start, table[0][1], 0)]))
                table.clear()
                carried = None
                first_block_on_page = False
                return
            cols = len(_cells(first))
            block = _Block("table", section, columns=cols)
            rows = list(table)
            if is_header_row(first):
                hdr_end = 1
                if len(rows) > 1 and is_separator_row(text[rows[1][0] : rows[1][1]]):
                    hdr_end = 2
                block.header = (rows[0][0], rows[hdr_end - 1][1])
                block.header_text = text[block.header[0] : block.header[1]]
                rows = rows[hdr_end:]
                carried = (block.header_text, cols)
            elif carried is not None and carried[1] == cols and first_block_on_page:
                block.header_text = carried[0]  # a table continued from the previous page
            if lead is not None:
                block.lead_start = lead[0]
                lead = None
            block.units = [_Unit(a, b, 0) for a, b in rows]
            blocks.append(block)
            table.clear()
            first_block_on_page = False

        # index of the next non-blank line after each line, for the heading test
        next_nonblank: list[int | None] = [None] * len(lines)
        following: int | None = None
        for i in range(len(lines) - 1, -1, -1):
            next_nonblank[i] = following
            if text[lines[i][0] : lines[i][1]].strip():
                following = i

        gaps = table_gaps([text[a:b] for a, b in lines])

        for i, (a, b) in enumerate(lines):
            line = text[a:b]
            if not line.strip():
                if i in gaps:
                    continue
                flush_para()
                flush_table()
                continue
            if is_table_line(line):
                flush_para()
                table.append((a, b))
                continue
            flush_table()
            prev = text[lines[i - 1][0] : lines[i - 1][1]] if i else None
            j = next_nonblank[i]
            nxt = text[lines[j][0] : lines[j][1]] if j is not None else None
            heading = is_heading(line, prev, nxt)
            if heading is not None:
                flush_para()
                flush_lead()
                if len(heading) > MAX_SECTION:  # the heading's text stays in the chunks; only the label is cut
                    notes.append(f"section heading {heading[:40]!r}… is {len(heading):,} characters long, more "
                                 f"than {MAX_SECTION}; kept its first {MAX_SECTION} as the section name")
                    heading = heading[:MAX_SECTION]
                section = heading
                lead = (a, b)
                first_block_on_page = False
                carried = None
                continue
            if lead is not None:
                para.append(lead)
                lead = None
            para.append((a, b))
        flush_para()
        flush_table()
        flush_lead()
        for block in blocks:
            if block.kind == "prose":
                a, b = block.units[0].start, block.units[0].end
                block.units = [_Unit(s, e, 0) for s, e in split_sentences(text, a, b)]
        self._count(text, blocks)
        return blocks, section, carried

    def _count(self, text: str, blocks: list[_Block]) -> None:
        # A unit longer than a window (a page that is one line without sentence ends) is never tokenised whole:
        # that costs memory in proportion to the line. It is cut window by window in _split_huge.
        units = [u for b in blocks for u in b.units if u.end - u.start <= self.window]
        for i in range(0, len(units), _COUNT_BATCH):
            group = units[i : i + _COUNT_BATCH]
            for u, n in zip(group, self.count_tokens([text[u.start : u.end] for u in group]), strict=True):
                u.tokens = n
        for block in blocks:
            block.units = [
                piece
                for u in block.units
                for piece in (self._split_huge(text, u) if u.end - u.start > self.window else self._split_long(text, u))
            ]

    def _split_long(self, text: str, unit: _Unit) -> list[_Unit]:
        if unit.tokens <= self.max_tokens:
            return [unit]
        return self._split(text, unit)

    def _split(self, text: str, unit: _Unit) -> list[_Unit]:
        seg = text[unit.start : unit.end]
        offsets = self.token_offsets(seg)
        budget = self.max_tokens
        # A piece cut from a longer text may tokenise into more tokens on its own (a run without spaces is
        # segmented differently without its left context): count the pieces and cut smaller until they fit.
        for _ in range(4):
            pieces = self._cut(text, unit, seg, offsets, budget)
            counts = self.count_tokens([text[p.start : p.end] for p in pieces])
            for piece, n in zip(pieces, counts, strict=True):
                piece.tokens = n
            over = max(counts, default=0) - self.max_tokens
            if over <= 0:
                break
            budget = max(1, budget - over - budget // 20)
        return pieces

    def _split_huge(self, text: str, unit: _Unit) -> list[_Unit]:
        """Cut a unit longer than a window, one window at a time: time and memory linear in its length.

        Each window is cut as _split cuts a long sentence; its last piece, which the window's end may have cut
        short, is left to start the next window. So every character is tokenised about once, in texts of at most
        a window, instead of the whole unit at once (and again for every cut).
        """
        pieces: list[_Unit] = []
        pos, end = unit.start, unit.end
        while pos < end:
            stop = min(end, pos + self.window)
            if stop < end:  # end the window at white space when there is some in its second half
                space = max(text.rfind(" ", pos, stop), text.rfind("\n", pos, stop))
                if space > pos + self.window // 2:
                    stop = space
            a, b = _strip_span(text, pos, stop)
            if b <= a:
                pos = stop
                continue
            got = self._split(text, _Unit(a, b, 0)) or [_Unit(a, b, 0)]  # no tokens at all: keep it whole
            if stop < end and len(got) > 1:
                pos = got.pop().start
            else:
                pos = stop
            pieces.extend(got)
        return pieces

    def _cut(self, text: str, unit: _Unit, seg: str, offsets: list[tuple[int, int]], budget: int) -> list[_Unit]:
        pieces: list[_Unit] = []
        t = 0
        while t < len(offsets):
            limit = t + budget
            a = offsets[t][0] if t else 0  # from the start: what precedes the first token (U+200B...) too
            b = len(seg) if limit >= len(offsets) else offsets[limit][0]
            if limit < len(offsets):
                # Prefer to cut at white space, so that no word is split in two.
                cut = max(seg.rfind(" ", a, b), seg.rfind("\n", a, b))
                if cut > a + (b - a) // 2:
                    b = cut
            nxt = t
            while nxt < len(offsets) and offsets[nxt][0] < b:
                nxt += 1
            x, y = _strip_span(text, unit.start + a, unit.start + b)
            if y > x:
                pieces.append(_Unit(x, y, nxt - t))
            t = max(nxt, t + 1)
        return pieces

    # -- blocks -> chunk spans --------------------------------------------------------------------------------
    def _pack(self, text: str, block: _Block) -> Iterator[tuple[int, int, str, bool]]:
        if not block.units:
            return
        if block.kind == "table":
            yield from self._pack_table(text, block)
            return
        units = block.units
        i = 0
        while i < len(units):
            j, used = i, 0
            while j < len(units) and (j == i or used + units[j].tokens <= self.max_tokens):
                used += units[j].tokens
                j += 1
            a, b = units[i].start, units[j - 1].end
            # Units with no white space between them (Chinese sentences, pieces of a cut run) can tokenise into
            # more tokens together than apart: count those chunks as a whole, and give back units until they fit.
            glued = any(units[k].start == units[k - 1].end for k in range(i + 1, j))
            while glued and j - 1 > i and self.count_tokens([text[a:b]])[0] > self.max_tokens:
                j -= 1
                b = units[j - 1].end
            yield (a, b, text[a:b], False)
            if j >= len(units):
                break
            # Step back over trailing sentences that fit in the overlap, but always move forward.
            k, back = j, 0
            while k - 1 > i and back + units[k - 1].tokens <= self.overlap:
                back += units[k - 1].tokens
                k -= 1
            i = k

    def _pack_table(self, text: str, block: _Block) -> Iterator[tuple[int, int, str, bool]]:
        header = block.header_text
        units = block.units
        lead = block.lead_start if block.lead_start is not None else (block.header[0] if block.header else None)
        # What stands before the rows: in the first chunk the heading and header as written, later the header.
        first_prefix = ""
        if lead is not None and units:
            first_prefix = text[lead : units[0].start]
            if block.header is None and header:
                first_prefix = f"{header}\n{first_prefix}"
        later_prefix = f"{header}\n" if header else ""
        first_tokens, later_tokens = self.count_tokens([first_prefix, later_prefix])
        i = 0
        while i < len(units):
            budget = max(self.max_tokens - (first_tokens if i == 0 else later_tokens), self.max_tokens // 4)
            j, used = i, 0
            while j < len(units) and (j == i or used + units[j].tokens <= budget):
                used += units[j].tokens
                j += 1
            a, b = units[i].start, units[j - 1].end
            if i == 0 and lead is not None:
                if block.header is None and header:  # heading, then a continued table: keep the header too
                    yield (lead, b, f"{header}\n{text[lead:b]}", True)
                else:
                    yield (lead, b, text[lead:b], False)
            elif header:
                yield (a, b, f"{header}\n{text[a:b]}", True)
            else:
                yield (a, b, text[a:b], False)
            i = j
        if not units and block.header is not None:
            start = block.lead_start if block.lead_start is not None else block.header[0]
            yield (start, block.header[1], text[start : block.header[1]], False)

    def _make(
        self, doc: LoadedDocument, page: Page, section: str, start: int, end: int, text: str, prefixed: bool,
        ordinal: int, seen: dict[str, int],
    ) -> Chunk:
        m = doc.meta
        key = f"{doc.source}\x00{page.number or 0}\x00{text}"
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        n = seen.get(digest, 0)
        seen[digest] = n + 1
        chunk_id = digest if n == 0 else f"{digest}-{n}"
        return Chunk(
            id=chunk_id, text=text, source=doc.source, title=m.title, doc_type=m.doc_type, date=m.date,
            publisher=m.publisher, company=m.company, tickers=m.tickers, language=m.language, page=page.number,
            form=m.form, fiscal_year=m.fiscal_year, period_end=m.period_end, period_type=m.period_type,
            char_start=start, char_end=end, section=section, ordinal=ordinal, header_prefixed=prefixed,
            facts=tuple(f for f in page.facts if start <= f.span[0] and f.span[1] <= end),
        )
