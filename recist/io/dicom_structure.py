"""Is a DICOM file's encoding complete? A byte-level walk of its data elements (PS3.5 section 7).

pydicom reads leniently: a file cut inside a sequence of undefined length reads "successfully" with
the sequence ending where the file ends, so the last content items of an SR are lost without a word,
and other cuts surface later as ``OSError: No tag to read`` while a sequence is parsed lazily.
:func:`check_complete` walks the encoded elements (explicit or implicit VR, little or big endian) and
says where the file stops short: a value longer than what is left, a sequence or item without its
delimiter, trailing bytes that are not an element. It does not interpret values, so it is fast
(one pass over the bytes, no objects built) and knows nothing of IODs.
"""

from __future__ import annotations

import struct

__all__ = ["check_complete"]

_LONG_VRS = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
_UNDEFINED = 0xFFFFFFFF
_ITEM = (0xFFFE, 0xE000)
_ITEM_END = (0xFFFE, 0xE00D)
_SEQUENCE_END = (0xFFFE, 0xE0DD)
_IMPLICIT_LE = "1.2.840.10008.1.2"
_EXPLICIT_BE = "1.2.840.10008.1.2.2"
_DEFLATED = ("1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.8.1")
_MAX_DEPTH = 64


class _Truncated(Exception):
    pass


class _Walker:
    def __init__(self, data: bytes, explicit: bool, little: bool) -> None:
        self.data = data
        self.explicit = explicit
        self.prefix = "<" if little else ">"

    def _unpack(self, fmt: str, offset: int) -> tuple[int, ...]:
        size = struct.calcsize(self.prefix + fmt)
        if offset + size > len(self.data):
            raise _Truncated(f"the file ends inside an element header at byte {offset}")
        return struct.unpack_from(self.prefix + fmt, self.data, offset)

    def _tag(self, offset: int) -> tuple[int, int]:
        group, element = self._unpack("HH", offset)
        return group, element

    def elements(self, offset: int, end: int | None, depth: int) -> int:
        """Walk elements from ``offset`` to ``end`` (None: up to an item delimiter); return the offset after."""
        if depth > _MAX_DEPTH:
            raise _Truncated(f"sequences nested more than {_MAX_DEPTH} deep at byte {offset}")
        limit = len(self.data) if end is None else end
        while offset < limit:
            tag = self._tag(offset)
            if tag == _ITEM_END:
                if end is not None:
                    raise _Truncated(f"an item delimiter at byte {offset} inside an item of defined length")
                return offset + 8
            if tag[0] == 0xFFFE:
                raise _Truncated(f"unexpected delimiter ({tag[0]:04X},{tag[1]:04X}) at byte {offset}")
            if self.explicit:
                vr = self.data[offset + 4 : offset + 6]
                if vr in _LONG_VRS:
                    (length,) = self._unpack("L", offset + 8)
                    offset += 12
                else:
                    (length,) = self._unpack("H", offset + 6)
                    offset += 8
            else:
                (length,) = self._unpack("L", offset + 4)
                offset += 8
            if length == _UNDEFINED:
                offset = self.items(offset, depth + 1)
            else:
                if offset + length > limit:
                    raise _Truncated(
                        f"element ({tag[0]:04X},{tag[1]:04X}) at byte {offset} needs {length} bytes but "
                        f"{limit - offset} are left"
                    )
                offset += length
        if end is None and depth > 0:
            raise _Truncated("the file ends inside an item of undefined length (no item delimiter)")
        return offset

    def items(self, offset: int, depth: int) -> int:
        """Walk the items of an undefined-length sequence (or encapsulated pixel data) up to its delimiter."""
        while True:
            if offset + 8 > len(self.data):
                raise _Truncated("the file ends inside a sequence of undefined length (no sequence delimiter)")
            tag = self._tag(offset)
            (length,) = self._unpack("L", offset + 4)
            offset += 8
            if tag == _SEQUENCE_END:
                return offset
            if tag != _ITEM:
                raise _Truncated(f"({tag[0]:04X},{tag[1]:04X}) where a sequence item was expected")
            if length == _UNDEFINED:
                offset = self.elements(offset, None, depth)
            else:
                if offset + length > len(self.data):
                    raise _Truncated(f"an item at byte {offset} needs {length} bytes, the file ends first")
                offset = self.elements(offset, offset + length, depth) if length else offset


def _meta(data: bytes) -> tuple[int, str]:
    """Offset of the data set after the file meta group, and the transfer syntax (implicit LE if none)."""
    if len(data) < 132 or data[128:132] != b"DICM":
        return 0, _IMPLICIT_LE
    walker = _Walker(data, explicit=True, little=True)
    offset, syntax = 132, _IMPLICIT_LE
    while offset + 8 <= len(data) and walker._tag(offset)[0] == 0x0002:
        tag = walker._tag(offset)
        vr = data[offset + 4 : offset + 6]
        if vr in _LONG_VRS:
            (length,) = walker._unpack("L", offset + 8)
            offset += 12
        else:
            (length,) = walker._unpack("H", offset + 6)
            offset += 8
        if length == _UNDEFINED or offset + length > len(data):
            raise _Truncated(f"the file meta element ({tag[0]:04X},{tag[1]:04X}) is cut")
        if tag == (0x0002, 0x0010):
            syntax = data[offset : offset + length].rstrip(b"\x00 ").decode("ascii", "replace")
        offset += length
    return offset, syntax


def check_complete(data: bytes) -> str | None:
    """Why the encoded DICOM file ``data`` is incomplete, or None when every element is whole.

    Parameters
    ----------
    data
        The whole file (Part 10 with preamble, or a bare data set in implicit VR little endian).

    Returns
    -------
    str or None
        A short reason ("the file ends inside a sequence of undefined length (no sequence delimiter)"),
        or None. Deflated transfer syntaxes are not walked (None).
    """
    try:
        offset, syntax = _meta(data)
        if syntax in _DEFLATED:
            return None
        walker = _Walker(data, explicit=syntax != _IMPLICIT_LE, little=syntax != _EXPLICIT_BE)
        walker.elements(offset, len(data), 0)
    except _Truncated as exc:
        return str(exc)
    return None
