"""JSON responses whose end-user text stays inert: <, >, & and line separators escaped (still valid JSON)."""
from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

UNSAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def json_response(data: Any, cache: str = "no-store") -> HttpResponse:
    """A JSON response (escaped as above) with the given Cache-Control."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(UNSAFE)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Cache-Control"] = cache
    return response
