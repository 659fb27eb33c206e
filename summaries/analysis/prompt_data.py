"""Turn one session's events and recording into compact prompt data: CSV rows, aliases, ids, metadata.

Everything here is a pure function of its input. `prepare_session` is the entry point; its result feeds
both engines (the LLM prompt and the rule engine) and carries the id -> event map that stays out of the
prompt but is needed to ground and time-stamp the model's answer.
"""
from __future__ import annotations

import bisect

import csv
import hashlib
import io
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from summaries.analysis.elements import clip, describe_target, event_elements, form_of
from summaries.analysis.events import InputEvent, select_events, url_path
from summaries.analysis.exceptions import filter_exceptions
from summaries.analysis.network import failed_requests, network_requests
from summaries.analysis.page import PageSignals, read_page
from summaries.analysis.page_rows import (
    ANALYTICS_PATHS,
    STATIC_PATH,
    aborted_at_leave,
    click_effects,
    invalid_rows,
    leaves,
    request_display,
    text_rows,
    wait_rows,
)
from summaries.analysis.recording import activity_times, inactivity_periods, mouse_positions
from summaries.analysis.routes import route_template, site_of
from summaries.analysis.signals import SignalThresholds, dead_clicks, error_clicks, rage_clicks, thrashed_cursor
from summaries.analysis.tokens import count_tokens

MAX_URL = 256
# Markers around end-user data in a prompt; removed from the data itself so nothing can close the block early.
DATA_OPEN = "<<<SESSION_DATA"
DATA_CLOSE = "SESSION_DATA>>>"

CSV_COLUMNS = ("id", "t", "window", "url", "event", "target", "detail")


@dataclass(frozen=True)
class PrepareOptions:
    """Knobs of input preparation (defaults follow REFERENCE.md)."""

    max_events: int = 6000
    margin_ms: int = 100_000
    inactivity_ms: int = 10_000
    slow_request_ms: int = 3000
    signals: SignalThresholds = field(default_factory=SignalThresholds)


@dataclass
class Row:
    """One line of the prompt's event table, plus the facts behind it that stay out of the prompt."""

    event_id: str
    timestamp_ms: int
    kind: str  # pageview, click, change, submit, exception, request_failed, rageclick, dead_click, idle, ...
    window: str = ""
    url: str = ""
    target: str = ""
    detail: str = ""
    uuid: str | None = None
    source: str = "event"  # event | recording | computed
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """URL path of the page the row happened on."""
        return url_path(self.url)


@dataclass
class PromptInput:
    """Prepared data of one session: rows, alias maps, metadata, the id map and figures about the filtering."""

    session_id: str
    start_ms: int
    end_ms: int
    rows: list[Row]
    url_aliases: dict[str, str]
    window_aliases: dict[str, str]
    target_aliases: dict[str, str]
    metadata: dict[str, Any]
    stats: dict[str, Any]
    csv_text: str = ""
    input_hash: str = ""
    token_count: int = 0

    @property
    def ids(self) -> dict[str, Row]:
        """The id -> row map (kept out of the prompt)."""
        return {r.event_id: r for r in self.rows}

    def seconds(self, timestamp_ms: int) -> float:
        """Seconds from session start."""
        return round((timestamp_ms - self.start_ms) / 1000, 1)

    @property
    def duration_s(self) -> float:
        """Session duration in seconds."""
        return round(max(0, self.end_ms - self.start_ms) / 1000, 1)


def short_id(seed: str, taken: set[str]) -> str:
    """First 8 hex chars of a hash of the row; a collision gets a salted rehash."""
    salt = 0
    while True:
        digest = hashlib.sha256(f"{seed}#{salt}".encode() if salt else seed.encode()).hexdigest()[:8]
        if digest not in taken:
            taken.add(digest)
            return digest
        salt += 1


def shorten_url(url: str, limit: int = MAX_URL) -> str:
    """A URL cut to the limit by removing the middle of its query string."""
    if len(url) <= limit:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url[: limit // 2] + "…" + url[-limit // 2 :]
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    if len(base) >= limit - 8:
        return base[: limit - 1] + "…"
    room = limit - len(base) - 2
    query = parts.query
    return f"{base}?{query[: room // 2]}…{query[-(room - room // 2) :]}"


def sanitize(text: str) -> str:
    """End-user text made safe to sit inside the data block: one line, no block markers."""
    text = " ".join(str(text).split())
    return text.replace(DATA_OPEN, "").replace(DATA_CLOSE, "").replace("<<<", "‹‹‹").replace(">>>", "›››")


def target_label(tag: str, label: str) -> str:
    """A click target as `tag:label` (no quotes, so the CSV needs no escaping in the common case)."""
    return f"{tag}:{label}" if label else tag


def _custom_detail(props: dict[str, Any]) -> str:
    """A few scalar properties of a custom event."""
    items = [
        f"{k}={clip(str(v), 30)}"
        for k, v in props.items()
        if not k.startswith("$") and k not in {"token", "distinct_id"} and isinstance(v, (str, int, float, bool))
    ]
    return "; ".join(items[:3])


def _event_rows(events: list[InputEvent], taken: set[str]) -> tuple[list[Row], dict[str, Any]]:
    """Rows for analytics events (exceptions already filtered), and figures about what was dropped."""
    exc = filter_exceptions(events)
    kept_exceptions = {g.event.uuid: g for g in exc.kept}
    rows: list[Row] = []
    for event in events:
        name = event.name
        kind, target, detail, facts = name.lstrip("$"), "", "", {}
        if name == "$exception":
            group = kept_exceptions.get(event.uuid)
            if group is None:
                continue
            info = group.info
            detail = f"{info.type}: {clip(info.value, 120)}"
            if group.repeats:
                detail += f" (x{group.repeats + 1})"
            if group.caused:
                detail += f" (+{group.caused} follow-on errors)"
            facts = {"api_related": info.api_related, "handled": info.handled, "fingerprint": info.fingerprint,
                     "repeats": group.repeats, "caused": group.caused}
        elif name == "$autocapture":
            kind = event.event_type or "click"
            tag, label, href = describe_target(event.properties)
            target = target_label(tag, label)
            if href and kind == "click":
                detail = "-> " + shorten_url(href, 120)
            facts = {"tag": tag, "label": label, "href": href, "form": form_of(event_elements(event.properties))}
        elif name in ("$rageclick", "$dead_click"):
            tag, label, _ = describe_target(event.properties)
            target = target_label(tag, label)
            facts = {"tag": tag, "label": label}
        elif name == "$pageview":
            title = event.properties.get("title") or event.properties.get("$title") or ""
            detail = clip(str(title), 60) if title else ""
        elif name == "$pageleave":
            pass
        elif not name.startswith("$"):
            kind = name
            detail = _custom_detail(event.properties)
            facts = {"custom": True}
        elif name in ("$screen",):
            detail = clip(str(event.properties.get("$screen_name") or ""), 60)
        rows.append(
            Row(
                event_id=short_id(event.uuid, taken),
                timestamp_ms=event.timestamp_ms,
                kind=kind,
                window=event.window_id,
                url=event.url,
                target=target,
                detail=detail,
                uuid=event.uuid,
                facts=facts,
            )
        )
    _strip_site_name(rows)
    compact = _drop_redundant(rows)
    return compact, {"exceptions_dropped_as_noise": exc.dropped_as_noise, "exceptions_collapsed": exc.collapsed,
                     "redundant_rows_dropped": len(rows) - len(compact)}


FIELD_TAGS = ("input", "textarea", "select")
TITLE_SEPARATOR = re.compile(r"\s[·|—–-]\s")


def _strip_site_name(rows: list[Row]) -> None:
    """Drop the site-name suffix every page title repeats ("Checkout · Shop" -> "Checkout")."""
    titles = [r.detail for r in rows if r.kind == "pageview" and r.detail]
    suffixes = {TITLE_SEPARATOR.split(t)[-1] for t in titles if TITLE_SEPARATOR.search(t)}
    if len(titles) >= 2 and len(suffixes) == 1 and all(TITLE_SEPARATOR.search(t) for t in titles):
        suffix = suffixes.pop()
        for row in rows:
            if row.kind == "pageview" and row.detail:
                row.detail = row.detail[: row.detail.rfind(suffix)].rstrip(" ·|—–-")


def _drop_redundant(rows: list[Row]) -> list[Row]:
    """Rows that say nothing new: a click into a field the user then types in, a page leave followed by the next
    page view within a second (the navigation row already says it)."""
    keep = []
    for i, row in enumerate(rows):
        if row.kind == "click" and row.facts.get("tag", "").split("[", 1)[0] in FIELD_TAGS:
            following = next((r for r in rows[i + 1:] if r.kind in ("click", "change", "submit", "pageview")), None)
            if following is not None and following.kind == "change" and following.target == row.target:
                continue
        if row.kind == "pageleave":
            nxt = next((r for r in rows[i + 1:] if r.kind == "pageview"), None)
            if nxt is not None and nxt.timestamp_ms - row.timestamp_ms <= 1000:
                continue
        keep.append(row)
    return keep


def _recording_actions(signals: PageSignals, taken: set[str]) -> list[Row]:
    """Page views (from the recording's Meta events) and clicks (from its interactions) as rows."""
    rows: list[Row] = []
    href = ""
    moments = sorted([(ts, "view", url) for ts, url in signals.hrefs] + [(c.timestamp_ms, "click", c) for c in signals.clicks],
                     key=lambda m: m[0])
    for ts, kind, item in moments:
        if kind == "view":
            href = str(item)
            rows.append(Row(short_id(f"rec-view:{ts}:{href}", taken), ts, "pageview", url=href, source="recording"))
        else:
            rows.append(Row(short_id(f"rec-click:{ts}:{item.node}", taken), ts, "click", url=href,
                            target=target_label(item.tag, item.name), source="recording",
                            facts={"tag": item.tag, "label": item.name, "href": "", "form": item.form}))
    return rows


class PageLocator:
    """Which page (url, window) the user was on at a moment: the last analytics row with a URL at or before it."""

    def __init__(self, rows: list[Row]) -> None:
        self.times: list[int] = []
        self.places: list[tuple[str, str]] = []
        win = ""
        for row in rows:
            if row.url:
                win = row.window or win
                self.times.append(row.timestamp_ms)
                self.places.append((row.url, win))

    def at(self, ts: int) -> tuple[str, str]:
        """(url, window) at ts; ("", "") before the first page."""
        i = bisect.bisect_right(self.times, ts)
        return self.places[i - 1] if i else ("", "")


def prepare_session(
    session_id: str,
    events: list[InputEvent],
    rrweb_events: list[dict[str, Any]] | None = None,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    session_metadata: dict[str, Any] | None = None,
    options: PrepareOptions = PrepareOptions(),
) -> PromptInput:
    """Compact prompt data for one session from its analytics events and rrweb recording."""
    rrweb_events = rrweb_events or []
    times = [e.timestamp_ms for e in events] + [int(e.get("timestamp") or 0) for e in rrweb_events if e.get("timestamp")]
    start_ms = start_ms if start_ms is not None else (min(times) if times else 0)
    end_ms = end_ms if end_ms is not None else (max(times) if times else start_ms)
    selected = select_events(events, start_ms, end_ms, margin_ms=options.margin_ms, max_events=options.max_events)
    taken: set[str] = set()
    rows, stats = _event_rows(selected, taken)
    stats["events_in"] = len(events)
    stats["events_selected"] = len(selected)
    signals = read_page(rrweb_events)
    if not any(r.kind in ("pageview", "click") for r in rows):
        # A recording without analytics (an rrweb file): its pages and clicks stand in for them.
        rows += _recording_actions(signals, taken)
        rows.sort(key=lambda r: r.timestamp_ms)
    analytics_rows = list(rows)
    names = {e.name for e in selected}
    locate = PageLocator(analytics_rows)

    def derived(key: str, ts: int, kind: str, source: str, **fields: Any) -> None:
        """Add a row computed from the recording or the signals, placed on the page the user was on then."""
        url, win = locate.at(ts)
        rows.append(Row(event_id=short_id(key, taken), timestamp_ms=ts, kind=kind, window=win, url=url, source=source,
                        **fields))

    # Failed requests from the recorder's network data.
    user_actions = [r.timestamp_ms for r in analytics_rows if r.kind in ("click", "submit", "change")]
    requests = network_requests(rrweb_events)
    stats["requests"] = len(requests)
    failed = retried = 0
    moments = leaves(analytics_rows, end_ms)
    for req, recovered in failed_requests(requests, user_actions):
        path = urlsplit(req.url).path or ""
        if ANALYTICS_PATHS.match(path) or STATIC_PATH.search(path):
            continue
        if recovered:
            # The page retried it by itself within seconds and it worked: the user never saw it, and a model
            # shown it tends to cry wolf. Counted, not listed.
            retried += 1
            continue
        failed += 1
        aborted = aborted_at_leave(req, moments) is not None
        status = "aborted as the user left" if aborted else "network error" if req.status == 0 else str(req.status)
        page = locate.at(req.timestamp_ms)[0]
        derived(f"net:{req.timestamp_ms}:{req.endpoint}:{req.status}", req.timestamp_ms, "request_failed", "recording",
                detail=f"{req.method} {request_display(req.url, page)} {status}".strip(),
                facts={"status": req.status, "endpoint": req.endpoint, "route": route_template(req.url),
                       "auto_recovered": recovered, "request_url": req.url, "method": req.method,
                       "aborted_at_leave": aborted,
                       "first_party": not page or site_of(req.url) in ("", site_of(page))})
    stats["requests_failed"] = failed
    stats["requests_retried_automatically"] = retried

    # What the page showed and how it reacted: messages and where, invalid fields, waits, clicks' effects.
    slow, left = wait_rows(signals, requests, analytics_rows, end_ms, derived, options.slow_request_ms,
                           lambda ts: locate.at(ts)[0])
    stats["requests_slow"] = slow
    stats["left_while_loading"] = left
    stats["texts_shown"] = text_rows(signals, derived)
    stats["fields_invalid"] = invalid_rows(signals, derived)
    click_rows = [r for r in analytics_rows if r.kind == "click"]
    click_effects(click_rows, signals, requests, analytics_rows)

    # Frustration signals: posthog-js's own when sent, computed from the recording otherwise.
    computed = []
    if "$rageclick" not in names:
        computed += rage_clicks(signals.clicks, options.signals)
    if "$dead_click" not in names:
        # A page view is a reaction too (the next page's recording can start seconds after it loads).
        page_loads = signals.loads + [r.timestamp_ms for r in analytics_rows if r.kind in ("pageview", "pageleave")]
        computed += dead_clicks(signals.clicks, signals.mutations, signals.scrolls, page_loads, options.signals)
    error_times = [r.timestamp_ms for r in rows if r.kind in ("exception", "request_failed")
                   and not r.facts.get("auto_recovered")]
    if click_rows:
        # An error click is said on the click's own row (one row fewer per error click).
        hits = {s.timestamp_ms for s in error_clicks([(r.timestamp_ms, r.target) for r in click_rows], error_times,
                                                     options.signals)}
        for row in click_rows:
            if row.timestamp_ms in hits:
                row.facts["error_click"] = True
                row.detail = (row.detail + " " if row.detail else "") + "[error_click]"
    else:
        computed += error_clicks([(c.timestamp_ms, target_label(c.tag, c.name)) for c in signals.clicks],
                                 error_times, options.signals)
    computed += thrashed_cursor(mouse_positions(rrweb_events), options.signals)
    for signal in computed:
        derived(f"sig:{signal.kind}:{signal.timestamp_ms}:{signal.target}", signal.timestamp_ms, signal.kind,
                "computed", target=signal.target, detail=signal.detail, facts={"tag": signal.target.split(":")[0]})
    stats["signals_computed"] = len(computed)

    # Inactivity: from the recording's activity, else from gaps between analytics events.
    activity = activity_times(rrweb_events) or user_actions or [r.timestamp_ms for r in analytics_rows]
    idle = inactivity_periods(activity, start_ms, end_ms, threshold_ms=options.inactivity_ms) if activity else []
    for period in idle:
        derived(f"idle:{period.start_ms}:{period.end_ms}", period.start_ms, "idle", "computed",
                detail=f"no activity for {period.seconds:.0f}s", facts={"end_ms": period.end_ms})
    stats["inactivity_periods"] = len(idle)

    order = {"idle": 2}
    rows.sort(key=lambda r: (r.timestamp_ms, order.get(r.kind, 1), r.event_id))
    prepared = PromptInput(
        session_id=session_id,
        start_ms=start_ms,
        end_ms=end_ms,
        rows=rows,
        url_aliases={},
        window_aliases={},
        target_aliases={},
        metadata={},
        stats=stats,
    )
    prepared.metadata = allowed_metadata(session_metadata or {}, prepared, activity, signals.clicks, idle)
    render_prompt_data(prepared)
    return prepared


def allowed_metadata(
    given: dict[str, Any], prepared: PromptInput, activity: list[int], clicks: list, idle: list
) -> dict[str, Any]:
    """The short metadata allow-list: when, how long, how active, how many errors; nothing else."""
    active = max(0.0, prepared.duration_s - sum(p.seconds for p in idle))
    start_iso = given.get("start_time") or ""
    if hasattr(start_iso, "isoformat"):
        start_iso = start_iso.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    first_url = given.get("first_url") or next((r.url for r in prepared.rows if r.url), "")
    return {
        "start_time": str(start_iso),
        "duration_s": prepared.duration_s,
        "active_s": round(float(given.get("active_seconds") or active), 1),
        "click_count": int(given.get("click_count") or sum(1 for r in prepared.rows if r.kind == "click") or len(clicks)),
        "keypress_count": int(given.get("keypress_count") or 0),
        "mouse_activity_count": len(activity),
        "console_error_count": int(given.get("console_error_count") or 0),
        "start_url": shorten_url(str(first_url)),
    }


def _alias(mapping: dict[str, str], reverse: dict[str, str], value: str, prefix: str) -> str:
    """The alias of a value, assigned in first-seen order."""
    if not value:
        return ""
    if value not in reverse:
        alias = f"{prefix}_{len(reverse) + 1}"
        reverse[value] = alias
        mapping[alias] = value
    return reverse[value]


def render_prompt_data(prepared: PromptInput) -> None:
    """Fill in the aliases, the CSV text, the token count and the input hash of prepared data."""
    urls: dict[str, str] = {}
    url_rev: dict[str, str] = {}
    wins: dict[str, str] = {}
    win_rev: dict[str, str] = {}
    targets: dict[str, str] = {}
    target_rev: dict[str, str] = {}
    target_counts: dict[str, int] = {}
    for row in prepared.rows:
        if row.target:
            target_counts[row.target] = target_counts.get(row.target, 0) + 1
    for row in prepared.rows:
        _alias(urls, url_rev, shorten_url(row.url), "url")
        _alias(wins, win_rev, row.window, "window")
        target = sanitize(row.target)
        if target and target_counts.get(row.target, 0) > 1 and len(target) > 10:
            _alias(targets, target_rev, target, "el")
    prepared.url_aliases = {k: sanitize(v) for k, v in urls.items()}
    prepared.window_aliases = wins
    prepared.target_aliases = targets
    prepared.csv_text = rows_to_csv(prepared, prepared.rows)
    prepared.token_count = count_tokens(prompt_data_block(prepared))
    # The facts behind the rows (what each click set off, where a text appeared) decide verdicts too.
    prepared.input_hash = hashlib.sha256(
        json.dumps(
            {"csv": prepared.csv_text, "urls": prepared.url_aliases, "targets": prepared.target_aliases,
             "metadata": prepared.metadata, "session": prepared.session_id,
             "facts": [row.facts for row in prepared.rows]},
            sort_keys=True, default=str,
        ).encode()
    ).hexdigest()


def rows_to_csv(prepared: PromptInput, rows: list[Row]) -> str:
    """The event table of some rows as CSV with one header row, using the session's aliases."""
    url_rev = {v: k for k, v in prepared.url_aliases.items()}
    win_rev = {v: k for k, v in prepared.window_aliases.items()}
    target_rev = {v: k for k, v in prepared.target_aliases.items()}
    multi_window = len(prepared.window_aliases) > 1
    columns = [c for c in CSV_COLUMNS if multi_window or c != "window"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    previous_url = None
    for row in rows:
        url_alias = url_rev.get(sanitize(shorten_url(row.url)), "")
        target = sanitize(row.target)
        values = {
            "id": row.event_id,
            "t": f"{(row.timestamp_ms - prepared.start_ms) / 1000:.1f}",
            "window": win_rev.get(row.window, ""),
            # The page only changes on some rows: an empty cell means "same page as the row above".
            "url": "" if url_alias == previous_url else url_alias,
            "event": row.kind,
            "target": target_rev.get(target, target),
            "detail": sanitize(row.detail),
        }
        previous_url = url_alias or previous_url
        writer.writerow([values[c] for c in columns])
    return out.getvalue()


def mapping_block(title: str, mapping: dict[str, str]) -> str:
    """An alias mapping as 'alias: value' lines under a title (empty when there is nothing to map)."""
    if not mapping:
        return ""
    return f"{title}:\n" + "\n".join(f"{k}: {v}" for k, v in mapping.items()) + "\n"


def prompt_data_block(prepared: PromptInput, rows_csv: str | None = None) -> str:
    """The delimited data block of a prompt: metadata, alias mappings and the event table."""
    url_rev = {v: k for k, v in prepared.url_aliases.items()}
    shown = dict(prepared.metadata)
    shown["start_url"] = url_rev.get(sanitize(str(shown.get("start_url", ""))), shown.get("start_url", ""))
    metadata = " ".join(f"{k}={sanitize(str(v))}" for k, v in shown.items())
    parts = [
        DATA_OPEN,
        "session: " + metadata + "\n",
        mapping_block("urls", prepared.url_aliases),
        mapping_block("windows", prepared.window_aliases) if len(prepared.window_aliases) > 1 else "",
        mapping_block("elements", prepared.target_aliases),
        "events:\n"
        + (rows_csv if rows_csv is not None else prepared.csv_text),
        DATA_CLOSE,
    ]
    return "\n".join(p for p in parts if p)


def row_as_dict(row: Row) -> dict[str, Any]:
    """A row as plain data (for debugging and tests)."""
    return asdict(row)
