"""Decode the bytes of a text file: UTF-8 (with or without BOM), UTF-16 with BOM, GB18030/GBK."""

from __future__ import annotations

import codecs
import unicodedata

from rag.errors import IngestError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Share of control characters (other than tab/newline/CR/form feed) past which a "text" file is binary.
_MAX_CONTROL_SHARE = 0.02
# Share of bytes valid in no supported encoding that a mostly readable file may hold (replaced, with a warning).
_MAX_BAD_SHARE = 0.01


def decode_text(data: bytes) -> str:
    """Decode text bytes, detecting the encoding; newlines become \\n and the text is NFC-normalised.

    Raises:
        IngestError: the bytes are binary (NUL or control bytes) or valid in none of the supported encodings.
    """
    return decode_text_with_warnings(data)[0]


def decode_text_with_warnings(data: bytes) -> tuple[str, tuple[str, ...]]:
    """Like ``decode_text``, also returning warnings about mixed encodings and replaced bytes.

    A file whose lines are in different encodings (UTF-8 lines beside GBK lines) is decoded line by line; a few
    bytes valid in no supported encoding (a stray latin-1 "é") become U+FFFD with a warning.

    Raises:
        IngestError: the bytes are binary (NUL or control bytes) or mostly valid in none of the supported encodings.
    """
    text: str | None = None
    warnings: tuple[str, ...] = ()
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError as exc:
                raise IngestError(f"starts with a {enc} byte-order mark but is not valid {enc}: {exc.reason}") from exc
            break
    if text is None:
        if b"\x00" in data:
            raise IngestError("binary content (NUL bytes), not text")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as utf8_err:
            text, warnings = _decode_mixed(data, utf8_err)
    _refuse_binary(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return unicodedata.normalize("NFC", text), warnings


def describe_error(exc: BaseException, *, limit: int = 200) -> str:
    """``Type: message`` of a library's exception for a report line: control characters escaped, length capped."""
    text = f"{type(exc).__name__}: {exc}"
    text = "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _refuse_binary(text: str) -> None:
    sample = text[:20000]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f")
    if sample and controls / len(sample) > _MAX_CONTROL_SHARE:
        raise IngestError(f"binary content ({controls} control characters in the first {len(sample)}), not text")


def _decode_mixed(data: bytes, utf8_err: UnicodeDecodeError) -> tuple[str, tuple[str, ...]]:
    """Bytes that are not UTF-8 throughout: GB18030 as a whole, else line by line (UTF-8, then GB18030)."""
    lines = data.split(b"\n")
    parts: list[str] = []
    utf8_lines = gb_lines = 0
    bad_lines: list[int] = []
    bad_bytes = 0
    for number, line in enumerate(lines, 1):
        try:
            parts.append(line.decode("utf-8"))
            utf8_lines += not line.isascii()
            continue
        except UnicodeDecodeError:
            pass
        try:
            parts.append(line.decode("gb18030"))
            gb_lines += 1
            continue
        except UnicodeDecodeError:
            pass
        decoded = line.decode("utf-8", errors="replace")
        bad_bytes += max(1, decoded.count("\ufffd") - line.decode("utf-8", errors="ignore").count("\ufffd"))
        bad_lines.append(number)
        parts.append(decoded)
    if bad_bytes > _MAX_BAD_SHARE * len(data):
        _refuse_binary("\n".join(parts))  # random bytes: say binary rather than a wrong encoding
        try:
            data.decode("gb18030")
            gb_offset = "no bad byte, but mixed with UTF-8 lines"
        except UnicodeDecodeError as exc:
            gb_offset = f"bad byte at offset {exc.start}"
        raise IngestError(
            f"undecodable text: neither UTF-8 (bad byte at offset {utf8_err.start}) nor GB18030/GBK ({gb_offset})"
        )
    warnings: list[str] = []
    if gb_lines and utf8_lines:
        warnings.append(f"mixed encodings: {gb_lines} line(s) read as GB18030/GBK, the others as UTF-8")
    if bad_lines:
        shown = ", ".join(map(str, bad_lines[:5])) + (", …" if len(bad_lines) > 5 else "")
        warnings.append(
            f"{bad_bytes} byte(s) valid in neither UTF-8 nor GB18030/GBK replaced with '\ufffd' (line {shown})"
        )
    return "\n".join(parts), tuple(warnings)
