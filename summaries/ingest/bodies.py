"""Decoding capture request bodies: JSON, gzip, base64 form data, lz64; with size caps that stop gzip bombs."""
from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

from summaries.ingest import lz64
from summaries.ingest.sanitize import finite

GZIP_MAGIC = b"\x1f\x8b"
BASE64_CHARS = re.compile(r"^[A-Za-z0-9+/_-]*$")
# lz-string decoding is slow pure Python; the legacy SDKs that use it send small requests.
MAX_LZ64_CHARS = 1024 * 1024


class BodyError(Exception):
    """A request body we refuse; `status` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BodyTooLarge(BodyError):
    """The body, or what it decompresses to, is over the limit."""

    status = 413


def gunzip_capped(data: bytes, limit: int) -> bytearray:
    """Inflate gzip data, refusing (BodyTooLarge) as soon as the output would pass `limit` bytes.

    Output is produced in bounded steps, so a gzip bomb costs at most `limit` bytes of memory.
    Concatenated gzip members are accepted, as `gzip.decompress` does.
    """
    out = bytearray()
    remaining = data
    while remaining:
        if remaining[:2] != GZIP_MAGIC:
            raise BodyError("gzip body has trailing bytes that are not gzip data")
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = remaining
        try:
            while not inflater.eof:
                piece = inflater.decompress(pending, limit - len(out) + 1)
                out += piece
                if len(out) > limit:
                    raise BodyTooLarge(f"body decompresses to more than {limit} bytes")
                pending = inflater.unconsumed_tail
                if not piece and not pending:
                    break
        except zlib.error as exc:
            raise BodyError(f"body looks like gzip but cannot be decompressed: {exc}") from exc
        if not inflater.eof:
            raise BodyError("gzip body is truncated")
        remaining = inflater.unused_data.lstrip(b"\x00")
    return out  # not copied to bytes: a 20 MB body should exist once


def decode_lz64(text: str, limit: int) -> str:
    """Decompress lz-string's base64 flavour (posthog-js's legacy `lz64` compression), at most `limit` characters."""
    if len(text) > MAX_LZ64_CHARS:
        raise BodyTooLarge(f"lz64 body is {len(text)} characters, over the {MAX_LZ64_CHARS} character limit")
    try:
        result = lz64.decompress(text, limit)
    except lz64.LzTooLarge as exc:
        raise BodyTooLarge(str(exc)) from exc
    except lz64.LzError as exc:
        raise BodyError(f"body says compression=lz64 but is not lz-string base64 data: {exc}") from exc
    if not result:
        raise BodyError("body says compression=lz64 but is not lz-string base64 data")
    return result


def decode_base64_text(text: str) -> bytes:
    """Base64 (standard or url-safe, padding optional) to bytes.

    A space stands for a `+` that a form decoding turned into one (base64 itself has no spaces).
    """
    cleaned = "".join(text.replace(" ", "+").split()).rstrip("=")
    if not BASE64_CHARS.match(cleaned):
        raise BodyError("body `data` is not valid base64")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        if "-" in cleaned or "_" in cleaned:
            return base64.urlsafe_b64decode(cleaned)
        return base64.b64decode(cleaned, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise BodyError("body `data` is not valid base64") from exc


def decode_form_data(data: str, compression: str, limit: int) -> bytes:
    """The JSON bytes in a form field `data`: lz64, plain JSON, or base64 (of gzip or of JSON)."""
    if compression == "lz64":
        return decode_lz64(data, limit).encode("utf-8", "surrogatepass")
    if data.lstrip()[:1] in ("{", "["):
        return data.encode("utf-8", "surrogatepass")
    decoded = decode_base64_text(data)
    return gunzip_capped(decoded, limit) if decoded[:2] == GZIP_MAGIC else decoded


def body_text(
    raw: bytes, *, content_type: str = "", compression: str = "", limit: int, form_data: str | None = None
) -> bytes:
    """The JSON bytes inside a capture body, whatever the encoding; raises BodyError / BodyTooLarge.

    Encodings: gzip (detected by magic bytes, whatever the query says), `?compression=gzip-js`,
    form bodies `data=<base64 or json>` (optionally `compression=` inside the form), `lz64`, and
    plain JSON. Every decompression is capped at `limit` bytes of output. `form_data` is a `data`
    value already decoded from a query string (GET ?data=), decoded no further as a form.
    """
    compression = (compression or "").lower()
    if form_data is not None:
        text = decode_form_data(form_data, compression, limit)
    elif raw[:2] == GZIP_MAGIC:
        return gunzip_capped(raw, limit)
    elif compression in {"gzip", "gzip-js"} and raw:
        raise BodyError(f"compression={compression} was given but the body is not gzip data")
    elif _form_like(raw, content_type):
        fields = parse_qs(_form_text(raw.lstrip()), keep_blank_values=True)
        if "data" not in fields:
            raise BodyError("form body has no `data` field")
        compression = (fields.get("compression", [compression])[0] or "").lower()
        text = decode_form_data(fields["data"][0], compression, limit)
    elif compression == "lz64":
        text = decode_lz64(raw.decode("latin-1"), limit).encode("utf-8", "surrogatepass")
    elif compression == "base64":
        text = decode_base64_text(raw.decode("latin-1"))
    else:
        text = raw
    if len(text) > limit:
        raise BodyTooLarge(f"body is {len(text)} bytes decoded, over the {limit} byte limit")
    return text


def _form_like(raw: bytes, content_type: str) -> bool:
    """True for a urlencoded form body (by content type or a leading `data=`), not JSON sent with a form type."""
    stripped = raw.lstrip()
    form = "application/x-www-form-urlencoded" in content_type or stripped[:5] == b"data="
    return form and stripped[:1] not in (b"{", b"[")


def _form_text(raw: bytes) -> str:
    """A form body as text: UTF-8 as browsers send it, latin-1 for anything else (every byte maps to a character)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _no_constant(name: str) -> None:
    """JSON has no NaN or Infinity; what a sender meant by them is unknown, so they become null."""
    return None


def _finite_float(text: str) -> float | None:
    """A JSON float; one too large for a double (1e999) would become infinity, so it becomes null instead."""
    return finite(float(text))


# Called only for NaN/Infinity and float tokens: cheaper than scanning every body for big exponents.
DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float)
WHITESPACE = re.compile(r"[ \t\n\r]*")


def as_text(data: bytes) -> str:
    """JSON bytes as text: UTF-8, or UTF-16/32 as json.loads would detect them."""
    try:
        return data.decode(json.detect_encoding(data))
    except UnicodeDecodeError as exc:
        raise BodyError("body is not UTF-8 text (or a supported compression)") from exc


def _decode_at(text: str, pos: int) -> tuple[Any, int]:
    """One JSON value starting at pos; BodyError naming where it broke or what was too much."""
    try:
        return DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise BodyError(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise BodyError("body nests arrays or objects too deeply") from exc
    except ValueError as exc:  # e.g. an integer longer than Python converts (4,300 digits)
        raise BodyError(f"body has a value JSON cannot carry here: {str(exc)[:120]}") from exc


def json_bytes(value: Any) -> bytes:
    """Compact JSON as UTF-8; a lone surrogate (only rrweb text may still hold one) is written as an escape."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("ascii")


class RrwebList(list):
    """A `$snapshot_data` list kept as each rrweb event's JSON (UTF-8 bytes, as the client sent it), never as
    objects: a recording costs its size once more instead of several times, and is not encoded again."""


SNAPSHOT_KEYS = ("$snapshot_data", "$snapshot_items")
# Tokens json.loads reads but a stored recording should not carry (the parsed value is written instead).
NOT_JSON = ("NaN", "Infinity")


class StreamedBody:
    """A JSON capture body read one event at a time, so the parsed body never exists whole in memory.

    Iterating yields each event; `envelope` holds the other top-level fields (api_key, sent_at, ...) once
    iteration is done. A `$snapshot`'s rrweb events are kept as the JSON the client sent (RrwebList).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.envelope: dict[str, Any] = {}
        self._end = self._item_end = 0
        self.split_recordings = any(f'"{key}"' in text for key in SNAPSHOT_KEYS)

    def _event_at(self, pos: int, depth: int = 0) -> tuple[Any, int]:
        """One event from pos: member by member down to `properties`, whose rrweb list becomes an RrwebList."""
        text = self.text
        if not text.startswith("{", pos):
            return _decode_at(text, pos)
        members: dict[str, Any] = {}
        pos = self._skip(pos + 1)
        if text.startswith("}", pos):
            return members, pos + 1
        while True:
            key, pos = _decode_at(text, self._expect(pos, '"', "a member name"))
            pos = self._skip(self._expect(pos, ":", "`:`") + 1)
            if depth == 0 and key == "properties":
                members[key], pos = self._event_at(pos, 1)
            elif depth == 1 and key in SNAPSHOT_KEYS and text.startswith("[", pos):
                members[key] = RrwebList(self._raw_items(pos))
                pos = self._end
            else:
                members[key], pos = _decode_at(text, pos)
            pos = self._expect(pos, ",}", "`,` or `}`")
            if text[pos] == "}":
                return members, pos + 1
            pos = self._skip(pos + 1)

    def _skip(self, pos: int) -> int:
        return WHITESPACE.match(self.text, pos).end()

    def _expect(self, pos: int, chars: str, what: str) -> int:
        pos = self._skip(pos)
        if pos >= len(self.text) or self.text[pos] not in chars:
            raise BodyError(f"body is not valid JSON: expected {what} at character {pos}")
        return pos

    def _raw_items(self, pos: int) -> Iterator[bytes]:
        """The JSON of each element of the array at pos, checked by parsing it; sets self._end past it."""
        for start, item in self._items(pos, raw=True):
            span = self.text[start:self._item_end]
            yield json_bytes(item) if any(token in span for token in NOT_JSON) else span.encode("utf-8")

    def _items(self, pos: int, raw: bool = False) -> Iterator[Any]:
        """Elements of the array starting at pos (events, or with `raw` (start, value) pairs); sets self._end."""
        pos = self._skip(pos + 1)
        if self.text.startswith("]", pos):
            self._end = pos + 1
            return
        while True:
            start = pos
            if raw:
                item, pos = _decode_at(self.text, pos)
                self._item_end = pos
                item = (start, item)
            else:
                item, pos = self._event_at(pos) if self.split_recordings else _decode_at(self.text, pos)
            yield item
            pos = self._expect(pos, ",]", "`,` or `]`")
            if self.text[pos] == "]":
                self._end = pos + 1
                return
            pos = self._skip(pos + 1)

    def __iter__(self) -> Iterator[Any]:
        text = self.text
        pos = self._skip(0)
        if pos >= len(text):
            raise BodyError("body is empty; expected a JSON event, a list of events or {\"batch\": [...]}")
        if text[pos] == "[":
            yield from self._items(pos)
        elif text[pos] == "{":
            yield from self._object(pos)
        else:
            value, _ = _decode_at(text, pos)
            raise BodyError(
                f"expected a JSON event, a list of events or {{\"batch\": [...]}}, got {type(value).__name__}")
        if self._skip(self._end) != len(text):
            raise BodyError(f"body is not valid JSON: extra data at character {self._skip(self._end)}")

    def _object(self, pos: int) -> Iterator[Any]:
        """The members of a top-level object: `batch` streamed, anything else kept in the envelope."""
        members: dict[str, Any] = {}
        streamed = False
        pos = self._skip(pos + 1)
        if not self.text.startswith("}", pos):
            while True:
                key, pos = _decode_at(self.text, self._expect(pos, '"', "a member name"))
                pos = self._skip(self._expect(pos, ":", "`:`") + 1)
                if key == "batch" and self.text.startswith("[", pos):
                    yield from self._items(pos)
                    pos, streamed = self._end, True
                else:
                    members[key], pos = _decode_at(self.text, pos)
                pos = self._expect(pos, ",}", "`,` or `}`")
                if self.text[pos] == "}":
                    break
                pos = self._skip(pos + 1)
        self._end = pos + 1
        self.envelope = members
        if streamed:
            return
        if "batch" in members:
            raise BodyError("`batch` must be a list of events")
        if "event" in members:
            self.envelope = {}
            yield members
        elif isinstance(members.get("data"), list):
            yield from members.pop("data")
        else:
            raise BodyError("JSON object has neither `batch` (a list of events) nor `event`")


def parse_json(data: bytes) -> Any:
    """Parse a whole JSON body (small ones: /flags/); a message says where it broke."""
    text = as_text(data)
    start = WHITESPACE.match(text).end()
    if start == len(text):
        raise BodyError("body is empty; expected a JSON object")
    value, end = _decode_at(text, start)
    if WHITESPACE.match(text, end).end() != len(text):
        raise BodyError(f"body is not valid JSON: extra data at character {end}")
    return value
