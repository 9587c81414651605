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


def decode_text(data: bytes) -> str:
    """Decode text bytes, detecting the encoding; newlines become \\n and the text is NFC-normalised.

    Raises:
        IngestError: the bytes are binary (NUL or control bytes) or valid in none of the supported encodings.
    """
    text: str | None = None
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
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError as exc:
                raise IngestError(
                    "undecodable text: neither UTF-8 (bad byte at offset "
                    f"{utf8_err.start}) nor GB18030/GBK (bad byte at offset {exc.start})"
                ) from exc
    sample = text[:20000]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f")
    if sample and controls / len(sample) > _MAX_CONTROL_SHARE:
        raise IngestError(f"binary content ({controls} control characters in the first {len(sample)}), not text")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return unicodedata.normalize("NFC", text)
