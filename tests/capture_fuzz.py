"""Seeded generators of capture requests for the fuzz test: valid events, hostile values, broken bodies."""
from __future__ import annotations

import base64
import gzip
import json
import random
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote

from tests.ingest_helpers import T0, later, rrweb_recording

HOSTILE_TEXT = [
    "nul\x00inside", "\x00", "lone \ud800 surrogate", "\udfff", "literal \\u0000 text", "\\\\u0000",
    "emoji \U0001F600", "caf\u00e9", "\u2028\u2029", "x" * 3000, "", " ", "<script>alert(1)</script>",
    "'; DROP TABLE summaries_event; --", "\u0000\u0000\u0000",
]
HOSTILE_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "1" * 5000, "1" * 400 + ".5", "1e-400",
                   "123456789012345678901234567890", "-0"]
ENDPOINTS = ["/e/", "/i/v0/e/", "/batch/", "/capture/", "/track/", "/engage/", "/s/", "/e", "/batch"]


@dataclass
class FuzzRequest:
    """One request to send and the uuids of the valid analytics events it carries (stored if it is answered 200)."""

    method: str
    path: str
    body: bytes
    content_type: str = "text/plain"
    query: dict[str, str] = field(default_factory=dict)
    valid_uuids: list[str] = field(default_factory=list)


def valid_event(rng: random.Random, token: str, session: str) -> dict:
    """A posthog-js event that must be stored, with hostile text in places that are allowed to hold it."""
    props = {"$session_id": session, "$window_id": rng.choice(["w1", "w\x002", "w\ud8003"]),
             "$current_url": rng.choice(["https://shop.test/", "https://shop.test/p?q=\x00", "https://a.test/\ud800"]),
             "token": token, "$browser": rng.choice(HOSTILE_TEXT), "nested": {rng.choice(HOSTILE_TEXT): [1, None]},
             "email": rng.choice(["a@b.test", "nul\x00@b.test"]), "$event_type": "click"}
    return {"uuid": str(uuid.UUID(int=rng.getrandbits(128))), "event": rng.choice(["$pageview", "$autocapture",
            "$exception", "custom \x00 name"]), "distinct_id": rng.choice(["anon-1", "anon\x00-2", "\ud800x"]),
            "properties": props, "timestamp": later(rng.uniform(0, 600)).isoformat()}


def invalid_event(rng: random.Random, token: str) -> object:
    """Something in a batch that must be refused alone, its neighbours kept."""
    return rng.choice([
        42, None, "text", [], {"event": ""}, {"event": "x" * 300, "properties": {"distinct_id": "a"}},
        {"event": "x", "properties": [1, 2]}, {"event": "x", "properties": {"token": token}},
        {"event": "x", "distinct_id": "a", "timestamp": "3000-01-01T00:00:00Z"},
        {"event": "x", "distinct_id": "a", "timestamp": "1970-01-01T00:00:00Z"},
        {"event": "x", "distinct_id": "a", "offset": 1e300},
        {"event": "x", "distinct_id": "a", "offset": -1e17},
        {"event": "x", "distinct_id": "a", "uuid": "not-a-uuid"},
        {"event": "x", "distinct_id": "a", "properties": {"$session_id": {"a": 1}}},
        {"event": "$snapshot", "distinct_id": "a", "properties": {"$session_id": "s", "$snapshot_data": 5}},
        {"event": "x", "distinct_id": "a", "timestamp": 10 ** 30},
    ])


def raw_json(value: object, rng: random.Random) -> str:
    """JSON text, sometimes with a hostile number spliced in where a value is."""
    text = json.dumps(value)
    if rng.random() < 0.3 and '"$browser": ' in text:
        text = text.replace('"$browser": ', f'"$browser": {rng.choice(HOSTILE_NUMBERS)}, "was": ', 1)
    return text


def encode(text: str, rng: random.Random) -> tuple[bytes, str, dict[str, str], str]:
    """(body, content type, query, method) in one of the encodings posthog-js and older SDKs use."""
    raw = text.encode("utf-8", "surrogatepass")
    kind = rng.choice(["json", "gzip", "gzip", "base64-form", "json-form", "get"])
    if kind == "gzip":
        return gzip.compress(raw), "text/plain", {}, "POST"
    if kind == "base64-form":
        data = base64.b64encode(raw).decode()
        return f"data={quote(data)}".encode(), "application/x-www-form-urlencoded", {"compression": "base64"}, "POST"
    if kind == "json-form":
        return f"data={quote(text, errors='surrogatepass')}".encode(), "application/x-www-form-urlencoded", {}, "POST"
    if kind == "get" and len(raw) < 4000:
        return b"", "", {"data": base64.b64encode(raw).decode()}, "GET"
    return raw, "application/json", {}, "POST"


def mixed_batch(rng: random.Random, token: str, index: int) -> FuzzRequest:
    """Valid and invalid events together: every valid one must be stored."""
    session = f"fuzz-{index % 7}"
    items: list[object] = []
    valid: list[str] = []
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.6:
            event = valid_event(rng, token, session)
            items.append(event)
            valid.append(event["uuid"])
        else:
            items.append(invalid_event(rng, token))
    if rng.random() < 0.2:
        items.append({"uuid": str(uuid.UUID(int=rng.getrandbits(128))), "event": "$snapshot", "distinct_id": "a",
                      "properties": {"$session_id": session, "$snapshot_data": rrweb_recording(T0, 3) + [
                          {"type": 3, "timestamp": "x"}, {"type": 2, "timestamp": 1, "data": "\x1f\x8bjunk", "cv": "2024-10"}]}})
    envelope = rng.choice(["list", "batch", "batch-last"])
    if envelope == "list":
        text = raw_json(items, rng)
    elif envelope == "batch":
        text = raw_json({"api_key": token, "batch": items, "sent_at": T0.isoformat()}, rng)
    else:
        text = raw_json({"batch": items, "sent_at": "garbage", "api_key": token}, rng)
    body, content_type, query, method = encode(text, rng)
    # An integer of 5,000 digits makes the whole body unreadable (400): nothing in it is accepted.
    return FuzzRequest(method, rng.choice(ENDPOINTS), body, content_type, query, [] if "1" * 5000 in text else valid)


def broken_body(rng: random.Random, token: str) -> FuzzRequest:
    """A body that cannot be read as events: it must get a 4xx."""
    deep = "[" * 1000 + "]" * 1000
    choices: list[tuple[bytes, str, dict[str, str]]] = [
        (b"", "text/plain", {}),
        (b"{", "text/plain", {}),
        (deep.encode(), "application/json", {}),
        (('{"api_key": "%s", "batch": %s}' % (token, deep)).encode(), "application/json", {}),
        (('[{"event": "x", "distinct_id": "a", "properties": %s}]' % ('{"a":' * 995 + "1" + "}" * 995)).encode(),
         "application/json", {}),
        (("[" + "1" * 5000 + "]").encode(), "application/json", {}),
        (f"data={quote(json.dumps([{'event': 'x', 'distinct_id': 'ä€𝄞', 'properties': {'token': token}}]), safe='')}"
         .encode(), "application/x-www-form-urlencoded", {}),
        ("data=[{\"event\": \"€\"}]".encode(), "application/x-www-form-urlencoded", {}),
        (b"data=" + bytes(rng.getrandbits(8) for _ in range(50)), "application/x-www-form-urlencoded", {}),
        (b"data=NoTlZsTrInG&compression=lz64", "application/x-www-form-urlencoded", {}),
        (b"data=" + bytes(rng.choice(b"ABCxyz+/=") for _ in range(200)) + b"&compression=lz64",
         "application/x-www-form-urlencoded", {}),
        (gzip.compress(b'{"a": 1}')[:-6], "text/plain", {}),
        (b"\x1f\x8b" + bytes(rng.getrandbits(8) for _ in range(100)), "text/plain", {}),
        (bytes(rng.getrandbits(8) for _ in range(200)), "text/plain", {}),
        (b'"just a string"', "application/json", {}),
        (b"[1, 2, 3]", "application/json", {"token": token}),
        (b'{"api_key": 5, "batch": "x"}', "application/json", {}),
        (b'{"no": "events"}', "application/json", {}),
        (json.dumps([{"event": "x", "distinct_id": "a"}]).encode(), "application/json", {"token": "phc_\x00nul"}),
        (json.dumps({"api_key": "\x00", "batch": [{"event": "x", "distinct_id": "a"}]}).encode(), "text/plain", {}),
        (b"[]" + b" " * 10 + b"x", "application/json", {}),
        (b"\xff\xfe[\x00]\x00", "application/json", {}),
        (b"abc", "text/plain", {"compression": "gzip-js"}),
        (b"not base64!!", "text/plain", {"compression": "base64"}),
        (b"[{\"event\": \"x\", \"distinct_id\": \"a\", \"timestamp\": \"9999-12-31T23:59:59-23:59\"}]",
         "application/json", {"token": token}),
        (json.dumps({"api_key": token, "batch": [{"event": "x", "distinct_id": "a"}]}).encode(), "text/plain",
         {"_": "9" * 5000}),
    ]
    body, content_type, query = rng.choice(choices)
    return FuzzRequest("POST", rng.choice(ENDPOINTS), body, content_type, query)


def flags_request(rng: random.Random, token: str) -> FuzzRequest:
    """/flags/ and /decide/ with odd bodies."""
    body = rng.choice([b"", b"{", b"[" * 1000, json.dumps({"token": token}).encode(),
                       json.dumps({"token": ["x"]}).encode(), b'{"token": "\\u0000"}', gzip.compress(b"{{{"),
                       ("1" * 5000).encode(), b"data=" + base64.b64encode(json.dumps({"token": token}).encode())])
    return FuzzRequest(rng.choice(["POST", "GET"]), rng.choice(["/flags/", "/decide/", "/flags", "/decide/?v=3"]),
                       body, rng.choice(["application/json", "text/plain", "application/x-www-form-urlencoded"]),
                       rng.choice([{}, {"token": token}, {"token": "\x00"}, {"compression": "gzip-js"}]))


def config_request(rng: random.Random, token: str) -> FuzzRequest:
    """Remote config with odd tokens in the path."""
    odd = rng.choice([token, "phc_unknown", "%00", "a" * 300, "%F0%9F%98%80", "..", "x%00y"])
    return FuzzRequest("GET", f"/array/{odd}/" + rng.choice(["config", "config.js"]), b"")


def requests(seed: int, count: int, token: str) -> list[FuzzRequest]:
    """`count` requests over every capture endpoint, from a seed."""
    rng = random.Random(seed)
    made: list[FuzzRequest] = []
    for index in range(count):
        roll = rng.random()
        if roll < 0.55:
            made.append(mixed_batch(rng, token, index))
        elif roll < 0.85:
            made.append(broken_body(rng, token))
        elif roll < 0.95:
            made.append(flags_request(rng, token))
        else:
            made.append(config_request(rng, token))
    return made
