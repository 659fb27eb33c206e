"""posthog-js compatible endpoints: event and recording capture, remote config / flags, the SDK's lazy scripts."""
from __future__ import annotations

import functools
import json
import logging
import mimetypes
import re
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from summaries.ingest import ratelimit
from summaries.ingest.batches import store_batch
from summaries.ingest.bodies import BodyError, BodyTooLarge, StreamedBody, as_text, body_text, parse_json
from summaries.ingest.payload import MAX_REASONS_SHOWN, check_payload
from summaries.ingest.projects import project_for_token, valid_token
from summaries.ingest.sanitize import clean_text, suspects
from summaries.models import Project, RawBatch

log = logging.getLogger(__name__)
MB = 1024 * 1024
SCRIPT_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*\.js$")
# How long a client should wait before retrying when the database is unreachable.
UNAVAILABLE_RETRY_SECONDS = 30


def posthog_dist() -> Path:
    """Where the installed posthog-js package keeps its built scripts."""
    return Path(getattr(settings, "RECAP_POSTHOG_JS_DIST", settings.BASE_DIR / "node_modules" / "posthog-js" / "dist"))


def limits() -> dict[str, int]:
    """Capture limits: sizes in bytes (PostHog's numbers as defaults) and events per request."""
    return {
        "event": int(getattr(settings, "RECAP_CAPTURE_MAX_EVENT_BYTES", 2 * MB)),
        "batch": int(getattr(settings, "RECAP_CAPTURE_MAX_BATCH_BYTES", 20 * MB)),
        "recording": int(getattr(settings, "RECAP_CAPTURE_MAX_RECORDING_BYTES", 25 * MB)),
        "events": int(getattr(settings, "RECAP_CAPTURE_MAX_EVENTS", 10_000)),
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
    kinds = {400: "validation_error", 401: "authentication_error", 413: "validation_error",
             503: "unavailable_error"}
    body = {"type": kinds.get(status, "invalid_request"), "code": code, "detail": detail, **extra}
    return with_cors(request, JsonResponse(body, status=status))


def retry_later(request: HttpRequest, code: str, detail: str, seconds: int) -> HttpResponse:
    """503 with Retry-After: posthog-js keeps a request answered 5xx and sends it again (a 4xx it drops)."""
    response = error(request, 503, code, detail)
    response["Retry-After"] = str(max(1, seconds))
    # An expected answer, not a server error: keep Django from logging each one at ERROR level.
    response._has_been_logged = True  # noqa: SLF001 - the flag django.utils.log.log_response checks
    return response


def endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A public endpoint: CSRF-exempt, OPTIONS answered, and every failure a JSON answer with CORS headers.

    Bad input is a 4xx naming the problem; an unreachable database a 503 the SDK retries, saying nothing
    about the servers; anything unexpected is logged and answered 500 in the same JSON shape.
    """
    @csrf_exempt
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.method == "OPTIONS":
            return with_cors(request, HttpResponse(status=204))
        try:
            return view(request, *args, **kwargs)
        except BodyTooLarge as exc:
            return error(request, 413, "payload_too_large", exc.message)
        except BodyError as exc:
            return error(request, 400, "invalid_payload", exc.message)
        except (OperationalError, InterfaceError):
            log.warning("database unavailable during %s", request.path, exc_info=True)
            return retry_later(request, "service_unavailable",
                               "Recap cannot store data right now; retry later", UNAVAILABLE_RETRY_SECONDS)
        except Exception:  # noqa: BLE001 - a bug must still answer in the shape clients understand
            log.exception("capture endpoint %s failed", request.path)
            return error(request, 500, "server_error", "Recap failed to handle this request; it has been logged")

    return wrapped


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The raw body, refusing one over `limit` bytes before reading it all (not through request.body's cap)."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and (len(declared) > 15 or int(declared) > limit):
        raise BodyTooLarge(f"body is {int(declared)} bytes, over the {limit} byte limit")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise BodyTooLarge(f"body is over the {limit} byte limit")
    return raw


def capture(request: HttpRequest, *, kind: str) -> HttpResponse:
    """Accept events (kind events) or `$snapshot` events (kind recordings): check, store raw, answer."""
    if request.method not in {"POST", "GET"}:
        return error(request, 405, "method_not_allowed", "capture takes POST (or GET with ?data=)")
    size = limits()
    limit = size["recording"] if kind == RawBatch.Kind.RECORDINGS else size["batch"]
    received_at = timezone.now()
    compression = request.GET.get("compression", "")
    if request.method == "GET":
        text = body_text(b"", compression=compression, limit=limit, form_data=request.GET.get("data", ""))
    else:
        text = body_text(read_body(request, limit), content_type=request.content_type or "",
                         compression=compression, limit=limit)
    suspect = suspects(text)
    body = StreamedBody(as_text(text))
    del text  # from here on the request exists once, as text, and shrinks to JSON lines as it is read
    checked = check_payload(
        body, received_at=received_at, max_event_bytes=size["event"], max_events=size["events"],
        query_token=request.GET.get("token", "") or request.GET.get("api_key", ""),
        query_sent_at=request.GET.get("_", ""), suspect=suspect,
    )
    del body
    if not checked.token:
        return error(request, 401, "missing_api_key",
                     "no project token: send `api_key` in the body or `token` in each event's properties")
    project = project_for_token(checked.token)
    if project is None:
        return error(request, 401, "invalid_api_key",
                     f"unknown project token {checked.token[:24]!r}; copy the capture token from the project's page")
    allowed, retry_after = ratelimit.allow(checked.token)
    if not allowed:
        return retry_later(request, "rate_limited",
                           f"more than {ratelimit.limit_per_minute()} requests a minute for this token; "
                           "retry later", retry_after)
    reasons = checked.rejected[:MAX_REASONS_SHOWN]
    if not checked.lines:
        return error(request, 400, "no_valid_events",
                     "no event in the request could be accepted" + (f": {reasons[0]}" if reasons else ""),
                     rejected=len(checked.rejected), errors=reasons)
    store_batch(
        project, checked.lines, kind=kind, source=request.path, rejected=len(checked.rejected),
        sent_at=checked.sent_at, user_agent=clean_text(request.headers.get("User-Agent", "")),
    )
    answer: dict[str, object] = {"status": 1, "accepted": len(checked.lines), "rejected": len(checked.rejected)}
    if reasons:
        answer["errors"] = reasons
    return with_cors(request, JsonResponse(answer))


@endpoint
def capture_events(request: HttpRequest) -> HttpResponse:
    """/e/, /i/v0/e/, /batch/, /capture/, /track/, /engage/: analytics events (a `$snapshot` among them too)."""
    return capture(request, kind=RawBatch.Kind.EVENTS)


@endpoint
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
    body = {}
    if request.method == "POST":
        try:
            text = body_text(read_body(request, MB), content_type=request.content_type or "",
                             compression=request.GET.get("compression", ""), limit=MB)
            body = parse_json(text) if text.strip() else {}
        except BodyTooLarge:
            raise
        except BodyError:
            body = {}  # old SDKs send odd bodies here; the query string may still name the project
    if not isinstance(body, dict):
        body = {}
    return valid_token(body.get("token")) or valid_token(body.get("api_key")) or valid_token(request.GET.get("token"))


@endpoint
def flags(request: HttpRequest) -> HttpResponse:
    """/flags/ and /decide/: no feature flags, plus the remote config (older SDKs read it from here)."""
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


@endpoint
def config_json(request: HttpRequest, token: str) -> HttpResponse:
    """/array/<token>/config: the remote config as JSON."""
    project = project_for_token(token)
    if project is None:
        return error(request, 401, "invalid_api_key", f"unknown project token {valid_token(token)[:24]!r}")
    response = with_cors(request, JsonResponse(remote_config(project)))
    response["Cache-Control"] = "public, max-age=60"
    return response


@endpoint
def config_js(request: HttpRequest, token: str) -> HttpResponse:
    """/array/<token>/config.js: the same config as a script posthog-js loads with a <script> tag."""
    project = project_for_token(token)
    if project is None:
        return error(request, 401, "invalid_api_key", f"unknown project token {valid_token(token)[:24]!r}")
    payload = json.dumps({"config": remote_config(project), "siteApps": []}).replace("</", "<\\/")
    script = (
        "(function(){window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{};"
        f"window._POSTHOG_REMOTE_CONFIG[{json.dumps(project.capture_token)}]={payload};}})();\n"
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
