"""lz-string's base64 flavour (posthog-js's legacy `lz64` body compression), decoded with a cap on the output.

LZ-string is an LZW variant: a small input can describe a very long output, so the decoder stops as soon as the
text it builds passes the limit instead of trusting the sender.
"""
from __future__ import annotations

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
VALUES = {char: index for index, char in enumerate(ALPHABET)}
BITS_PER_CHAR = 6


class LzError(ValueError):
    """Input that is not lz-string base64 data."""


class LzTooLarge(LzError):
    """Input that decodes to more than the limit."""


class _BitReader:
    """Bits of base64 characters, lowest significance first within each code, as lz-string writes them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.index = 0
        self.value = 0
        self.mask = 0

    def read(self, count: int) -> int:
        """The next `count` bits as a number."""
        result = 0
        for bit in range(count):
            if not self.mask:
                if self.index >= len(self.text):
                    raise LzError("lz64 data ends in the middle of a code")
                char = self.text[self.index]
                if char not in VALUES:
                    raise LzError(f"lz64 data has a character outside base64: {char!r}")
                self.value = VALUES[char]
                self.index += 1
                self.mask = 1 << (BITS_PER_CHAR - 1)
            if self.value & self.mask:
                result |= 1 << bit
            self.mask >>= 1
        return result


def decompress(text: str, limit: int) -> str:
    """The text lz-string's compressToBase64 packed; LzTooLarge past `limit` characters, LzError on bad data."""
    text = "".join(text.split())
    if not text:
        raise LzError("lz64 data is empty")
    reader = _BitReader(text)
    dictionary: list[str] = ["", "", ""]  # codes 0-2 are the markers below, never looked up as text
    width, grow_in = 3, 4
    marker = reader.read(2)
    if marker == 2:
        return ""
    if marker not in (0, 1):
        raise LzError("lz64 data does not start with a character")
    word = chr(reader.read(8 if marker == 0 else 16))
    dictionary.append(word)
    out = [word]
    size = len(word)
    while True:
        code = reader.read(width)
        if code in (0, 1):  # a new literal character of 8 or 16 bits
            dictionary.append(chr(reader.read(8 if code == 0 else 16)))
            code = len(dictionary) - 1
            grow_in -= 1
        elif code == 2:  # end of stream
            return "".join(out)
        if grow_in == 0:
            grow_in, width = 1 << width, width + 1
        if code < len(dictionary):
            entry = dictionary[code]
        elif code == len(dictionary):
            entry = word + word[0]
        else:
            raise LzError("lz64 data refers to a code it has not defined")
        size += len(entry)
        if size > limit:
            raise LzTooLarge(f"body decompresses to more than {limit} bytes")
        out.append(entry)
        dictionary.append(word + entry[0])
        grow_in -= 1
        word = entry
        if grow_in == 0:
            grow_in, width = 1 << width, width + 1
