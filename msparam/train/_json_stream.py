"""The ``(key, value)`` pairs of a JSON object stored in a file, one pair at a time.

``json.loads`` of a safetensors header holds it whole as text and as Python objects, 10-15x its
size for a header of many tiny entries (a header may have 100 MB). This scanner decodes the file
through a window of text and parses one member of the top-level object at a time with the json
module's own scanners (``scanstring``, ``raw_decode``), so what it holds is the window and the
member being parsed. Each key and each value may have at most :data:`MEMBER_LIMIT` characters.
The text must be strict UTF-8 (no BOM, no encoded surrogates).
"""
import codecs
import json
import os
import re
from collections.abc import Callable, Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]  # the json module's C scanner
from typing import Any

__all__ = ["MEMBER_LIMIT", "object_members"]

MEMBER_LIMIT = 1 << 20  # characters of one key or one value
_WINDOW_BYTES = 8 << 20  # bytes decoded at a time: at least MEMBER_LIMIT characters of up to 4 bytes each
_SPACES = " \t\n\r"
_WHITESPACE = re.compile(f"[{_SPACES}]*")
_DECODER = json.JSONDecoder()


class _Window:
    """Text of the file's bytes ``[text_start, ...)``, slid forward as ``pos`` advances."""

    def __init__(self, fd: int, begin: int, end: int, fail: "Callable[[str], Exception]") -> None:
        self.fd, self.end, self.fail = fd, end, fail
        self.text, self.pos, self.text_start, self.final = "", 0, begin, begin == end

    def fill(self) -> None:
        """Slide the window to start at ``pos`` unless it holds a member's worth of text from there."""
        if self.final or len(self.text) - self.pos >= MEMBER_LIMIT:
            return
        start = self.text_start + len(self.text[:self.pos].encode("utf-8"))
        length = min(_WINDOW_BYTES, self.end - start)
        raw = os.pread(self.fd, length, start)
        if len(raw) < length:
            raise self.fail("the file ended inside its header (it may have been rewritten while it was read)")
        self.final = start + length == self.end
        try:  # an incremental decoder keeps a character cut by the window's end for the next window
            self.text = codecs.getincrementaldecoder("utf-8")().decode(raw, self.final)
        except UnicodeDecodeError:
            raise self.fail("the header is not valid UTF-8") from None
        self.text_start, self.pos = start, 0

    def skip_whitespace(self) -> None:
        if self.text[self.pos:self.pos + 1] not in _SPACES:  # a character that is no space (compact JSON)
            return
        while True:
            self.pos = _WHITESPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]  # always matches
            if self.pos < len(self.text) or self.final:
                return
            self.fill()

    def expect(self, chars: str) -> str:
        """The next character that is not whitespace, which must be one of ``chars``."""
        char = self.text[self.pos:self.pos + 1]
        if not char or char not in chars:
            self.skip_whitespace()
            char = self.text[self.pos:self.pos + 1]
        if not char or char not in chars:
            raise self.invalid()
        self.pos += 1
        return char

    def invalid(self) -> Exception:
        if not self.final and len(self.text) - self.pos >= MEMBER_LIMIT:
            return self.fail(f"its header holds a key or value longer than {MEMBER_LIMIT} characters, "
                             f"more than msparam reads")
        return self.fail("the header is not valid JSON")

    def parse(self, scan: "Callable[[str, int], tuple[Any, int]]") -> Any:
        self.fill()
        try:
            value, self.pos = scan(self.text, self.pos)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
            raise self.invalid() from None
        return value


def _scan_key(text: str, pos: int) -> "tuple[str, int]":
    return scanstring(text, pos, True)  # type: ignore[no-any-return]


def object_members(fd: int, begin: int, end: int, fail: "Callable[[str], Exception]") -> "Iterator[tuple[str, Any]]":
    """Yield the ``(key, value)`` members of the JSON object that is the file's bytes ``[begin,
    end)`` (whitespace around it allowed), in file order; invalid JSON raises ``fail(what)``."""
    window = _Window(fd, begin, end, fail)
    window.expect("{")
    window.skip_whitespace()
    if window.text.startswith("}", window.pos):
        window.pos += 1
    else:
        separator = ","
        while separator == ",":
            window.expect('"')
            key = window.parse(_scan_key)
            window.expect(":")
            window.skip_whitespace()
            value = window.parse(_DECODER.raw_decode)
            separator = window.expect(",}")
            yield key, value
    window.skip_whitespace()
    if window.pos != len(window.text):
        raise window.fail("the header is not valid JSON")
