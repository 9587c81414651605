"""The parts of a Word file's zip package, inflated under size and ratio limits: in its directory and while inflating."""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator

from rag.errors import IngestError

# A part may inflate to this much at most. The text of a 1,000-page report is a few MB of XML; a zip bomb is GBs.
MAX_PART_BYTES = 128 * 1024 * 1024
# Deflate cannot do better than ~1030:1; repetitive but real Word XML reaches ~300:1 (20,000 equal paragraphs).
# Past the grace size, inflating faster than this is a bomb, whatever the zip directory says.
MAX_RATIO = 500
RATIO_GRACE_BYTES = 16 * 1024 * 1024
_READ_BLOCK = 64 * 1024


class ZipParts:
    """The parts of the archive, each inflated on demand under MAX_PART_BYTES and MAX_RATIO."""

    def __init__(self, data: bytes, archive: zipfile.ZipFile) -> None:
        self.data = data
        self.infos = {info.filename: info for info in archive.infolist()}

    def has(self, name: str) -> bool:
        return name in self.infos

    def chunks(self, name: str, limit: int | None = None) -> Iterator[bytes]:
        """The inflated bytes of one part, block by block; stops with an IngestError past ``limit`` or MAX_RATIO.

        The sizes in the zip directory are checked first, and the inflated size and ratio again while inflating:
        the directory can lie, the deflate stream cannot.
        """
        limit = MAX_PART_BYTES if limit is None else limit
        info = self.infos[name]
        if info.flag_bits & 0x1:
            raise IngestError(f"not a valid Word .docx file: {name} is encrypted in the archive")
        if info.file_size > limit:
            raise IngestError(f"{name} inflates to {size_text(info.file_size)}, over the limit of "
                              f"{size_text(limit)} for this part of a Word file (a zip bomb?)")
        if info.file_size > RATIO_GRACE_BYTES and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise IngestError(f"{name} inflates {info.file_size / max(1, info.compress_size):.0f} times "
                              f"({size_text(info.compress_size)} to {size_text(info.file_size)}), over the limit of "
                              f"{MAX_RATIO} times for a Word file (a zip bomb?)")
        start = self._data_start(info)
        if info.compress_type == zipfile.ZIP_STORED:
            yield from self._stored(name, info, start, limit)
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            yield from self._inflated(name, info, start, limit)
        else:
            raise IngestError(f"not a valid Word .docx file: {name} uses compression method {info.compress_type}, "
                              "which Word does not write (only stored and deflated)")

    def _data_start(self, info: zipfile.ZipInfo) -> int:
        header = self.data[info.header_offset:info.header_offset + 30]
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise IngestError(f"not a valid Word .docx file: the zip entry of {info.filename} is damaged")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        return info.header_offset + 30 + name_len + extra_len

    def _stored(self, name: str, info: zipfile.ZipInfo, start: int, limit: int) -> Iterator[bytes]:
        # Stored data is as long as the directory says, within the file; a directory that lies is caught here.
        end = min(len(self.data), start + info.compress_size)
        if end - start > limit:
            raise IngestError(f"{name} holds more than {size_text(limit)} (its zip directory says "
                              f"{size_text(info.file_size)}), over the limit for this part of a Word file")
        view = memoryview(self.data)
        crc = 0
        for at in range(start, end, _READ_BLOCK):
            block = view[at:min(end, at + _READ_BLOCK)].tobytes()
            crc = zlib.crc32(block, crc)
            yield block
        self._check_crc(name, info, crc)

    def _inflated(self, name: str, info: zipfile.ZipInfo, start: int, limit: int) -> Iterator[bytes]:
        inflater = zlib.decompressobj(-15)
        view = memoryview(self.data)
        at, produced, crc = start, 0, 0
        pending = b""
        while not inflater.eof:
            if not pending:
                if at >= len(self.data):
                    raise IngestError(f"not a valid Word .docx file: {name} is truncated")
                pending = view[at:at + _READ_BLOCK].tobytes()
                at += len(pending)
            try:
                block = inflater.decompress(pending, _READ_BLOCK)
            except zlib.error as exc:
                raise IngestError(f"not a valid Word .docx file: {name} does not inflate ({exc})") from exc
            pending = inflater.unconsumed_tail
            produced += len(block)
            consumed = at - start - len(pending)
            if produced > limit:
                raise IngestError(f"{name} inflates to more than {size_text(limit)} (its zip directory says "
                                  f"{size_text(info.file_size)}), over the limit for this part of a Word file (a zip bomb?)")
            if produced > RATIO_GRACE_BYTES and produced > MAX_RATIO * max(1, consumed):
                raise IngestError(f"{name} inflates more than {MAX_RATIO} times ({size_text(consumed)} to over "
                                  f"{size_text(produced)}; its zip directory says {size_text(info.file_size)}), over the "
                                  "limit for a Word file (a zip bomb?)")
            if block:
                crc = zlib.crc32(block, crc)
                yield block
        self._check_crc(name, info, crc)

    @staticmethod
    def _check_crc(name: str, info: zipfile.ZipInfo, crc: int) -> None:
        if crc != info.CRC:
            raise IngestError(f"not a valid Word .docx file: {name} is damaged (its CRC-32 does not match)")


def size_text(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
