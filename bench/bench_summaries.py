"""Benchmark of single-session summaries: prompt size, preparation speed, and the rule engine against labels.

    .venv/bin/python bench/bench_summaries.py [--data PATH ...] [--labels FILE] [--tolerance 10]

With no --data it uses the shop's sample corpus (sample_data/sessions.jsonl.gz) when present, else sessions built
by the test builders; the CRM set in sample_data/crm/ is held out and used only when named with --data. Sessions
are imported into a throw-away embedded install (SQLite + embedded Redis under a temp folder) with
`import_sessions`, then prepared exactly as the summarize task does.

Prints, per session (median and max):
  - Recap's prompt tokens (the delimited data block, and the full prompt with instructions),
  - the raw analytics events as JSON (and with the rrweb recording),
  - the JSON-rows format described in REFERENCE.md section 1 (aliases, one JSON array per event, ISO
    timestamps, element chain fields, exception fields; the same event selection PostHog used),
and the preparation time per 10,000 events, and the rule engine's figures on the labels file.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(var_dir: Path) -> None:
    """An embedded install in var_dir (never the developer's database)."""
    for name in ("DATABASE_URL", "REDIS_URL", "RECAP_LLM_MODEL"):
        os.environ.pop(name, None)
    os.environ["RECAP_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def json_rows_prompt(prepared_events, start_ms: int) -> str:
    """The JSON-rows format of REFERENCE.md section 1, built from the same analytics events."""
    from summaries.analysis.elements import event_elements
    from summaries.analysis.events import select_events
    from summaries.analysis.exceptions import exception_info, passes_prefilter
    from summaries.analysis.prompt_data import shorten_url, short_id

    columns = ["event", "timestamp", "elements_chain_href", "elements_chain_texts", "elements_chain_elements",
               "$window_id", "$current_url", "$event_type", "$exception_types", "$exception_sources",
               "$exception_values", "$exception_fingerprint_record", "event_id", "event_index"]
    urls: dict[str, str] = {}
    windows: dict[str, str] = {}
    rows = []
    taken: set[str] = set()
    for event in select_events(prepared_events, start_ms, None):
        props = event.properties
        types = sources = values = fingerprint = []
        if event.name == "$exception":
            info = exception_info(props)
            if not passes_prefilter(info):
                continue
            types, sources, values = [info.type], list(info.sources), [info.value]
            fingerprint = [{"type": "frame", "id": f} for f in info.functions]
        elements = event_elements(props)
        url = shorten_url(event.url)
        urls.setdefault(url, f"url_{len(urls) + 1}")
        windows.setdefault(event.window_id, f"window_{len(windows) + 1}")
        rows.append([
            event.name,
            datetime.fromtimestamp(event.timestamp_ms / 1000, tz=timezone.utc).isoformat(),
            [e.href for e in elements if e.href],
            [e.text for e in elements if e.text],
            [e.tag for e in elements if e.tag],
            windows[event.window_id],
            urls[url],
            str(props.get("$event_type") or ""),
            types, sources, values, fingerprint,
            short_id(event.uuid, taken),
            len(rows),
        ])
    return json.dumps({
        "columns": columns,
        "url_mapping": {v: k for k, v in urls.items()},
        "window_mapping": {v: k for k, v in windows.items()},
        "events": rows,
    })


def builder_sessions(project) -> None:
    """Sessions built by the test builders (used when no corpus is available)."""
    from tests import summary_sessions as s

    for make in (s.payment_fails_and_user_leaves, s.payment_fails_once_then_works, s.clean_purchase_with_noise,
                 s.dead_button_then_leave):
        for _ in range(3):
            make().store(project)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="*", help="files/folders for import_sessions (default: sample_data/)")
    parser.add_argument("--labels", help="labels JSONL (default: the labels file found in the data folder)")
    parser.add_argument("--tolerance", type=float, default=10.0)
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--install", help="use the sessions of an existing embedded install (its RECAP_VAR_DIR) "
                        "instead of importing into a throw-away one")
    args = parser.parse_args()

    var_dir = Path(args.install) if args.install else Path(tempfile.mkdtemp(prefix="recap-bench-"))
    setup_django(var_dir)
    from django.core.management import call_command

    from summaries.analysis.evaluation import Prediction, read_labels, report_text, score
    from summaries.analysis.events import event_from_row
    from summaries.analysis.prompt_data import PrepareOptions, prepare_session, prompt_data_block
    from summaries.analysis.rules import summarize_with_rules
    from summaries.analysis.schema import blocking_key_actions, build_summary
    from summaries.analysis.tokens import count_tokens
    from summaries.models import Organization, Project, Session, datetime_to_ms
    from summaries.prompts import system_prompt, user_prompt
    from summaries.summarize import load_prepared

    org, _ = Organization.objects.get_or_create(name="Bench", slug="bench")
    project, _ = Project.objects.get_or_create(organization=org, name="Bench")
    data = [Path(p) for p in (args.data or [])]
    if args.install:
        data = []
    elif not data and (ROOT / "sample_data" / "sessions.jsonl.gz").exists():
        # The shop's set; the CRM's (sample_data/crm/) is held out and benched only when named with --data.
        data = [ROOT / "sample_data" / "sessions.jsonl.gz"]
        args.labels = args.labels or str(ROOT / "sample_data" / "labels.jsonl")
    labels_path = Path(args.labels) if args.labels else None
    if data:
        if labels_path is None:
            found = [p for d in data if d.is_dir() for p in sorted(d.rglob("labels*.jsonl*"))]
            labels_path = found[0] if found else None
        # Folders: every data file but the labels (import_sessions would reject them).
        import_paths = [str(f) for p in data for f in ([p] if p.is_file() else sorted(p.rglob("*")))
                        if f.is_file() and not f.name.startswith("labels") and f.suffix in (".gz", ".jsonl", ".json",
                                                                                              ".ndjson")]
        started = time.perf_counter()
        call_command("import_sessions", *import_paths, "--project", str(project.pk), "--no-progress",
                     stdout=open(os.devnull, "w"))
        print(f"Imported {Session.objects.count()} sessions from {', '.join(import_paths)} "
              f"in {time.perf_counter() - started:.1f} s")
    if not Session.objects.exists():
        print("No corpus sessions found (sample_data/ empty or missing): using sessions from the test builders.")
        builder_sessions(project)

    system_tokens = count_tokens(system_prompt())
    recap, recap_full, raw, raw_rec, json_rows, ratios_rows, ratios_raw = [], [], [], [], [], [], []
    predictions: dict[str, list[Prediction]] = {}
    non_blocking: dict[str, list[Prediction]] = {}
    total_events = total_seconds = 0.0
    worst_rows: tuple[float, str, int, int] = (0.0, "", 0, 0)
    for session in Session.objects.order_by("pk"):
        events = [event_from_row(e) for e in session.events.all()]
        recording = session.rrweb_events()
        start = datetime_to_ms(session.start_time) if session.start_time else None
        end = datetime_to_ms(session.end_time) if session.end_time else None
        t0 = time.perf_counter()
        prepare_session(session.session_id, events, recording, start_ms=start, end_ms=end,
                        options=PrepareOptions(max_events=10**9))
        total_seconds += time.perf_counter() - t0
        total_events += len(events) + len(recording)
        prepared = load_prepared(session)
        data_tokens = prepared.token_count
        full = system_tokens + count_tokens(user_prompt(prompt_data_block(prepared)))
        raw_json = json.dumps([{"uuid": str(e.uuid), "event": e.name, "timestamp": e.timestamp.isoformat(),
                                "properties": e.properties} for e in session.events.all()])
        raw_tokens = count_tokens(raw_json)
        raw_rec_tokens = raw_tokens + count_tokens(json.dumps(recording))
        rows_tokens = count_tokens(json_rows_prompt(events, prepared.start_ms))
        recap.append(data_tokens)
        recap_full.append(full)
        raw.append(raw_tokens)
        raw_rec.append(raw_rec_tokens)
        json_rows.append(rows_tokens)
        ratios_rows.append(data_tokens / max(1, rows_tokens))
        worst_rows = max(worst_rows, (ratios_rows[-1], session.session_id, data_tokens, rows_tokens))
        ratios_raw.append(data_tokens / max(1, raw_tokens))
        summary = build_summary(summarize_with_rules(prepared), prepared, engine="rules")
        predictions[session.session_id] = [Prediction(a["seconds_from_start"], a["description"], a["event_id"])
                                           for a in blocking_key_actions(summary)]
        non_blocking[session.session_id] = [
            Prediction(a["seconds_from_start"], a["description"], a["event_id"])
            for seg in summary["segments"] for a in seg["key_actions"] if a["exception"] == "non-blocking"]

    def med_max(values: list[float]) -> str:
        return f"median {statistics.median(values):,.0f}, max {max(values):,.0f}"

    n = len(recap)
    print(f"\nInput tokens per session ({n} sessions, tiktoken o200k_base):")
    print(f"  Recap prompt data block (CSV + aliases + metadata): {med_max(recap)}")
    print(f"  Recap full prompt (with instructions and example):  {med_max(recap_full)}")
    print(f"  JSON-rows format (REFERENCE.md section 1):          {med_max(json_rows)}")
    print(f"  raw analytics events as JSON:                       {med_max(raw)}")
    print(f"  raw events + rrweb recording as JSON:               {med_max(raw_rec)}")
    print(f"  Recap data / JSON-rows: median {statistics.median(ratios_rows):.1%}, max {max(ratios_rows):.1%} "
          f"(target <= 50 %)")
    print(f"    largest: session {worst_rows[1]}, {worst_rows[2]:,} vs {worst_rows[3]:,} tokens")
    print(f"  Recap data / raw JSON:  median {statistics.median(ratios_raw):.2%}, max {max(ratios_raw):.2%} "
          f"(target <= 3 %)")
    full_raw = [f / r for f, r in zip(recap_full, raw)]
    print(f"  Recap full prompt / raw JSON: median {statistics.median(full_raw):.2%}")

    print(f"\nPreparation: {total_events:,.0f} events (analytics + recording) in {total_seconds:.2f} s -> "
          f"{10_000 * total_seconds / max(1, total_events):.3f} s per 10,000 events")
    # A single long session: the cost per 10k events when one session is large.
    from summaries.analysis.events import InputEvent

    biggest = max(Session.objects.all(), key=lambda s: s.event_count)
    events = [event_from_row(e) for e in biggest.events.all()]
    recording = biggest.rrweb_events()
    copies, offset = [], 0
    span = (max(e.timestamp_ms for e in events) - min(e.timestamp_ms for e in events)) + 1000 if events else 1000
    while len(copies) < 10_000 and events:
        copies += [InputEvent(f"{e.uuid}-{offset}", e.timestamp_ms + offset * span, e.name, e.window_id, e.url,
                              e.properties) for e in events]
        offset += 1
    copies = copies[:10_000]
    t0 = time.perf_counter()
    prepared = prepare_session("bench", copies, [], options=PrepareOptions(max_events=10**9))
    print(f"  one session of {len(copies):,} analytics events (no recording): {time.perf_counter() - t0:.2f} s, "
          f"{prepared.token_count:,} prompt tokens")

    if labels_path and labels_path.exists():
        import gzip

        opener = gzip.open if labels_path.suffix == ".gz" else open
        with opener(labels_path, "rt") as fh:
            labels = read_labels(fh)
        report = score(labels, {lab["session_id"]: predictions.get(lab["session_id"]) for lab in labels},
                       tolerance=args.tolerance, non_blocking=non_blocking)
        print(f"\nRule engine on {labels_path} (targets: recall >= 0.9, precision >= 0.9, 0 noise-only flagged):")
        text = report_text(report)
        if not args.show_misses:
            text = text.split("\nMissed:")[0].split("\nFalse alarms:")[0]
        print(text)
    else:
        print("\nNo labels file: rule engine figures need the corpus labels (--labels).")


if __name__ == "__main__":
    try:
        main()
    finally:
        # A throw-away install's embedded Redis server must not outlive the benchmark.
        from django.conf import settings

        if settings.configured and getattr(settings, "EMBEDDED_REDIS", False) and "recap-bench-" in str(settings.VAR_DIR):
            from config import embedded_redis

            embedded_redis.stop(settings.VAR_DIR)
