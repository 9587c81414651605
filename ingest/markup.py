"""Document type declarations: where one ends (internal subset included), cut out of HTML and of XML."""

from __future__ import annotations

import re
from collections.abc import Iterator

_DOCTYPE = re.compile(r"<!doctype", re.IGNORECASE)
_HEAD_TOKEN = re.compile(r"[\"'>\[]")
_SUBSET_TOKEN = re.compile(r"[\"'\]]|<!--")


def declaration_end(text: str, pos: int) -> tuple[int, bool] | None:
    """Where a document type declaration whose keyword ends at ``pos`` ends, and whether it has an internal subset.

    Quoted literals (before and inside the subset) and comments inside the subset may hold '[', ']' and '>'.

    Returns:
        (offset just past the declaration, has an internal subset), or None if the text ends first or the
        subset's ']' is followed by something other than '>'.
    """
    i = pos
    while (m := _HEAD_TOKEN.search(text, i)) is not None:  # the name and external id
        token = m[0]
        if token == ">":
            return m.end(), False
        if token == "[":
            break
        close = text.find(token, m.end())
        if close < 0:
            return None
        i = close + 1
    else:
        return None
    i = m.end()
    while (m := _SUBSET_TOKEN.search(text, i)) is not None:
        token = m[0]
        if token == "]":
            close = text.find(">", m.end())
            return None if close < 0 or text[m.end():close].strip() else (close + 1, True)
        close = text.find("-->" if token == "<!--" else token, m.end())
        if close < 0:
            return None
        i = close + (3 if token == "<!--" else 1)
    return None


def strip_doctypes(text: str) -> str:
    """Remove each document type declaration that has an internal subset (``<!DOCTYPE html [<!ENTITY …>]>``).

    The HTML parser ends a declaration at its first '>', so the rest of the subset became text ("]>" as a title
    and a chunk); its entities are never expanded either way. Declarations without a subset are left as they are.
    """
    out: list[str] = []
    pos = 0
    while (m := _DOCTYPE.search(text, pos)) is not None:
        found = declaration_end(text, m.end())
        if found is not None and found[1]:
            out.append(text[pos:m.start()])
            pos = found[0]
        else:
            out.append(text[pos:m.end()])
            pos = m.end()
    out.append(text[pos:])
    return "".join(out)


PROLOG_LIMIT = 1024 * 1024
_MORE = (-1, -1)


class PrologTooLong(ValueError):
    """What comes before an XML document's root element is longer than PROLOG_LIMIT."""


def without_doctype(chunks: Iterator[bytes], name: str, cut: list[tuple[int, int]]) -> Iterator[bytes]:
    """An XML byte stream with the document type declaration, internal subset included, cut out of its prolog.

    Appends (start, end) of what was cut to ``cut``: a format that forbids DTDs (Office Open XML) reads the rest,
    while their entities, even unexpanded, stay a hazard (libxml2 refuses an entity bomb outright, losing the text
    around it; external ones name files and URLs).

    Raises:
        PrologTooLong: the prolog (what comes before the root element) is longer than PROLOG_LIMIT bytes.
    """
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        found = _doctype_in_prolog(buffer)
        if found == _MORE:
            if len(buffer) > PROLOG_LIMIT:
                raise PrologTooLong(f"the XML prolog of {name} (before its first element) is over "
                                    f"{PROLOG_LIMIT / 1024 / 1024:.1f} MiB")
            continue
        if found is not None:
            cut.append(found)
            buffer = buffer[:found[0]] + buffer[found[1]:]
        yield buffer
        yield from chunks
        return
    if buffer:  # the stream ends inside its prolog: the parser says what is wrong with it
        yield buffer


def _doctype_in_prolog(data: bytes) -> tuple[int, int] | None:
    """(start, end) of the document type declaration before the root element; None if there is none; _MORE if
    the bytes end before that is known."""
    text = data.decode("latin-1")  # one character per byte: offsets stay byte offsets, markup stays ASCII
    i = 3 if text.startswith("\xef\xbb\xbf") else 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        rest = text[i:i + 9]
        if len(rest) < 9:  # too little to tell (a root element's start tag is longer)
            return _MORE
        if rest.startswith("<?") or rest.startswith("<!--"):
            close = text.find("?>" if rest.startswith("<?") else "-->", i + 2)
            if close < 0:
                return _MORE
            i = close + (2 if rest.startswith("<?") else 3)
        elif rest.upper() == "<!DOCTYPE":
            found = declaration_end(text, i + 9)
            return _MORE if found is None else (i, found[0])
        else:
            return None  # the root element: no declaration
