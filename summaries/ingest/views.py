"""posthog-js compatible endpoints: event and recording capture, remote config / flags, the SDK's lazy scripts."""
from __future__ import annotations

import json
import logging
import mimetypes
import re
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from summaries.ingest import ratelimit
from summaries.ingest.batches import store_batch
from summaries.ingest.bodies import BodyError, BodyTooLarge, body_text, parse_json
from summaries.ingest.payload import MAX_REASONS_SHOWN, check_payload
from summaries.ingest.projects import project_for_token
from summaries.models import Project, RawBatch

log = logging.getLogger(__name__)
MB = 1024 * 1024
SCRIPT_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*\.js$")


def posthog_dist() -> Path:
    """Where the installed posthog-js package keeps its built scripts."""
    return Path(getattr(settings, "RECAP_POSTHOG_JS_DIST", settings.BASE_DIR / "node_modules" / "posthog-js" / "dist"))


def limits() -> dict[str, int]:
    """Capture size limits in bytes (settings, with PostHog's numbers as defaults)."""
    return {
        "event": int(getattr(settings, "RECAP_CAPTURE_MAX_EVENT_BYTES", 2 * MB)),
        "batch": int(getattr(settings, "RECAP_CAPTURE_MAX_BATCH_BYTES", 20 * MB)),
        "recording": int(getattr(settings, "RECAP_CAPTURE_MAX_RECORDING_BYTES", 25 * MB)),
    }


def with_cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """CORS as posthog-js needs it: any origin, credentials allowed (sendBeacon sends cookies)."""
    origin = request.headers.get("Origin")
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        response["Vary"] = "Origin"
    else:
        response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = request.headers.get(
        "Access-Control-Request-Headers", "Content-Type, Authorization"
    )
    response["Access-Control-Max-Age"] = "86400"
    return response


def error(request: HttpRequest, status: int, code: str, detail: str, **extra: object) -> HttpResponse:
    """A JSON error a developer can act on."""
    kinds = {400: "validation_error", 401: "authentication_error", 413: "validation_error", 429: "throttled_error"}
    body = {"type": kinds.get(status, "invalid_request"), "code": code, "detail": detail, **extra}
    return with_cors(request, JsonResponse(body, status=status))


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The raw body, refusing one over `limit` bytes before reading it all (not through request.body's cap)."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"body is {int(declared)} bytes, over the {limit} byte limit")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise BodyTooLarge(f"body is over the {limit} byte limit")
    return raw


def capture(request: HttpRequest, *, kind: str) -> HttpResponse:
    """Accept events (kind events) or `$snapshot` events (kind recordings): check, store raw, answer."""
    if request.method == "OPTIONS":
        return with_cors(request, HttpResponse(status=204))
    if request.method not in {"POST", "GET"}:
        return error(request, 405, "method_not_allowed", "capture takes POST (or GET with ?data=)")
    size = limits()
    limit = size["recording"] if kind == RawBatch.Kind.RECORDINGS else size["batch"]
    received_at = timezone.now()
    try:
        if request.method == "GET":
            raw = ("data=" + request.GET.get("data", "")).encode() if request.GET.get("data") else b""
            content_type = "application/x-www-form-urlencoded"
        else:
            raw = read_body(request, limit)
            content_type = request.content_type or ""
        text = body_text(raw, content_type=content_type, compression=request.GET.get("compression", ""), limit=limit)
        body = parse_json(text)
        checked = check_payload(
            body, received_at=received_at, max_event_bytes=size["event"],
            query_token=request.GET.get("token", "") or request.GET.get("api_key", ""),
            query_sent_at=request.GET.get("_", ""), body_bytes=len(text),
        )
    except BodyTooLarge as exc:
        return error(request, 413, "payload_too_large", exc.message)
    except BodyError as exc:
        return error(request, 400, "invalid_payload", exc.message)
    if not checked.token:
        return error(request, 401, "missing_api_key",
                     "no project token: send `api_key` in the body or `token` in each event's properties")
    project = project_for_token(checked.token)
    if project is None:
        return error(request, 401, "invalid_api_key",
                     f"unknown project token {checked.token[:24]!r}; copy the capture token from the project's page")
    allowed, retry_after = ratelimit.allow(checked.token)
    if not allowed:
        response = error(request, 429, "rate_limited",
                         f"more than {ratelimit.limit_per_minute()} requests a minute for this token; retry later")
        response["Retry-After"] = str(retry_after)
        return response
    reasons = checked.rejected[:MAX_REASONS_SHOWN]
    if not checked.events:
        return error(request, 400, "no_valid_events",
                     "no event in the request could be accepted" + (f": {reasons[0]}" if reasons else ""),
                     rejected=len(checked.rejected), errors=reasons)
    store_batch(
        project, checked.events, kind=kind, source=request.path, rejected=len(checked.rejected),
        sent_at=checked.sent_at, user_agent=request.headers.get("User-Agent", ""),
    )
    answer: dict[str, object] = {"status": 1, "accepted": len(checked.events), "rejected": len(checked.rejected)}
    if reasons:
        answer["errors"] = reasons
    return with_cors(request, JsonResponse(answer))


@csrf_exempt
def capture_events(request: HttpRequest) -> HttpResponse:
    """/e/, /i/v0/e/, /batch/, /capture/, /track/: analytics events (a `$snapshot` among them is fine too)."""
    return capture(request, kind=RawBatch.Kind.EVENTS)


@csrf_exempt
def capture_recordings(request: HttpRequest) -> HttpResponse:
    """/s/: session recording data (`$snapshot` events carrying rrweb events)."""
    return capture(request, kind=RawBatch.Kind.RECORDINGS)


def remote_config(project: Project) -> dict:
    """The config posthog-js asks for before recording: everything Recap analyses is switched on."""
    return {
        "token": project.capture_token,
        "supportedCompression": ["gzip", "gzip-js"],
        "hasFeatureFlags": False,
        "captureDeadClicks": True,
        "capturePerformance": {"network_timing": True, "web_vitals": True, "web_vitals_allowed_metrics": None},
        "autocapture_opt_out": False,
        "autocaptureExceptions": True,
        "errorTracking": {"autocaptureExceptions": True, "suppressionRules": []},
        "analytics": {"endpoint": "/i/v0/e/"},
        "elementsChainAsString": True,
        "sessionRecording": {
            "endpoint": "/s/",
            "consoleLogRecordingEnabled": True,
            "recorderVersion": "v2",
            "sampleRate": None,
            "minimumDurationMilliseconds": None,
            "linkedFlag": None,
            "networkPayloadCapture": None,
            "masking": None,
            "urlTriggers": [],
            "urlBlocklist": [],
            "eventTriggers": [],
            "scriptConfig": None,
        },
        "heatmaps": True,
        "surveys": False,
        "productTours": False,
        "defaultIdentifiedOnly": True,
        "siteApps": [],
        "toolbarParams": {},
        "isAuthenticated": False,
    }


def _token_from_flags_request(request: HttpRequest) -> str:
    """The token of a /flags/ or /decide/ request (body `token`/`api_key`, or the query string)."""
    try:
        text = body_text(read_body(request, MB), content_type=request.content_type or "",
                         compression=request.GET.get("compression", ""), limit=MB)
        body = json.loads(text) if text.strip() else {}
    except (BodyError, ValueError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    return str(body.get("token") or body.get("api_key") or request.GET.get("token") or "")


@csrf_exempt
def flags(request: HttpRequest) -> HttpResponse:
    """/flags/ and /decide/: no feature flags, plus the remote config (older SDKs read it from here)."""
    if request.method == "OPTIONS":
        return with_cors(request, HttpResponse(status=204))
    token = _token_from_flags_request(request)
    project = project_for_token(token)
    if project is None:
        return error(request, 401, "invalid_api_key", f"unknown project token {token[:24]!r}")
    answer = {
        **remote_config(project),
        "flags": {},
        "featureFlags": {},
        "featureFlagPayloads": {},
        "errorsWhileComputingFlags": False,
        "quotaLimited": [],
        "requestId": None,
    }
    return with_cors(request, JsonResponse(answer))


def config_json(request: HttpRequest, token: str) -> HttpResponse:
    """/array/<token>/config: the remote config as JSON."""
    project = project_for_token(token)
    if project is None:
        return error(request, 401, "invalid_api_key", f"unknown project token {token[:24]!r}")
    response = with_cors(request, JsonResponse(remote_config(project)))
    response["Cache-Control"] = "public, max-age=60"
    return response


def config_js(request: HttpRequest, token: str) -> HttpResponse:
    """/array/<token>/config.js: the same config as a script posthog-js loads with a <script> tag."""
    project = project_for_token(token)
    if project is None:
        return error(request, 401, "invalid_api_key", f"unknown project token {token[:24]!r}")
    payload = json.dumps({"config": remote_config(project), "siteApps": []}).replace("</", "<\\/")
    script = (
        "(function(){window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{};"
        f"window._POSTHOG_REMOTE_CONFIG[{json.dumps(token)}]={payload};}})();\n"
    )
    response = with_cors(request, HttpResponse(script, content_type="application/javascript"))
    response["Cache-Control"] = "public, max-age=60"
    return response


def sdk_script(request: HttpRequest, name: str, version: str = "") -> HttpResponse:
    """/static/<name>.js (and /static/<version>/<name>.js): posthog-js's lazily loaded scripts, from npm."""
    if not SCRIPT_NAME.match(name):
        return error(request, 404, "not_found", "no such script")
    path = posthog_dist() / name
    if not path.is_file():
        return error(request, 404, "not_found",
                     f"{name} is not in {posthog_dist()}; run scripts/setup to install posthog-js")
    response = FileResponse(path.open("rb"), content_type=mimetypes.guess_type(name)[0] or "application/javascript")
    response["Cache-Control"] = "public, max-age=3600"
    return with_cors(request, response)
