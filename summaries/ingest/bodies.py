"""Decoding capture request bodies: JSON, gzip, base64 form data, lz64; with size caps that stop gzip bombs."""
from __future__ import annotations

import base64
import json
import re
import zlib
from typing import Any
from urllib.parse import parse_qs

GZIP_MAGIC = b"\x1f\x8b"
BASE64_CHARS = re.compile(r"^[A-Za-z0-9+/_-]*$")


class BodyError(Exception):
    """A request body we refuse; `status` is the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BodyTooLarge(BodyError):
    """The body, or what it decompresses to, is over the limit."""

    status = 413


def gunzip_capped(data: bytes, limit: int) -> bytes:
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
    return bytes(out)


def decode_lz64(text: str) -> str:
    """Decompress lz-string's base64 flavour (posthog-js's legacy `lz64` compression)."""
    import lzstring  # small pure-python package, imported only for this legacy encoding

    result = lzstring.LZString().decompressFromBase64(text)
    if not result:
        raise BodyError("body says compression=lz64 but is not lz-string base64 data")
    return result


def decode_base64_text(text: str) -> bytes:
    """Base64 (standard or url-safe, padding optional) to bytes."""
    cleaned = "".join(text.split()).rstrip("=")
    if not BASE64_CHARS.match(cleaned):
        raise BodyError("body `data` is not valid base64")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        if "-" in cleaned or "_" in cleaned:
            return base64.urlsafe_b64decode(cleaned)
        return base64.b64decode(cleaned, validate=True)
    except (ValueError, base64.binascii.Error) as exc:
        raise BodyError("body `data` is not valid base64") from exc


def body_text(raw: bytes, *, content_type: str = "", compression: str = "", limit: int) -> bytes:
    """The JSON bytes inside a capture body, whatever the encoding; raises BodyError / BodyTooLarge.

    Encodings: gzip (detected by magic bytes, whatever the query says), `?compression=gzip-js`,
    form bodies `data=<base64 or json>` (optionally `compression=` inside the form), `lz64`, and
    plain JSON. Every decompression is capped at `limit` bytes of output.
    """
    compression = (compression or "").lower()
    if raw[:2] == GZIP_MAGIC:
        return gunzip_capped(raw, limit)
    if compression in {"gzip", "gzip-js"} and raw:
        raise BodyError(f"compression={compression} was given but the body is not gzip data")
    stripped = raw.lstrip()
    form_like = "application/x-www-form-urlencoded" in content_type or stripped[:5] == b"data="
    if form_like and stripped[:1] not in (b"{", b"["):
        fields = parse_qs(stripped.decode("latin-1"), keep_blank_values=True)
        if "data" not in fields:
            raise BodyError("form body has no `data` field")
        data = fields["data"][0]
        compression = (fields.get("compression", [compression])[0] or "").lower()
        if compression == "lz64":
            text = decode_lz64(data).encode()
        elif data.lstrip()[:1] in ("{", "["):
            text = data.encode("latin-1")
        else:
            decoded = decode_base64_text(data)
            text = gunzip_capped(decoded, limit) if decoded[:2] == GZIP_MAGIC else decoded
    elif compression == "lz64":
        text = decode_lz64(raw.decode("latin-1")).encode()
    elif compression == "base64":
        text = decode_base64_text(raw.decode("latin-1"))
    else:
        text = raw
    if len(text) > limit:
        raise BodyTooLarge(f"body is {len(text)} bytes decoded, over the {limit} byte limit")
    return text


def parse_json(text: bytes) -> Any:
    """Parse JSON bytes; a message says where it broke."""
    if not text.strip():
        raise BodyError("body is empty; expected a JSON event, a list of events or {\"batch\": [...]}")
    try:
        return json.loads(text)
    except UnicodeDecodeError as exc:
        raise BodyError("body is not UTF-8 text (or a supported compression)") from exc
    except json.JSONDecodeError as exc:
        raise BodyError(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
