"""Figures about a dataset: size, sessions, duration distribution, outcomes and the fault mix."""
from __future__ import annotations

import gzip
import json
import statistics
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path


def _ts(value: str) -> float:
    """An ISO timestamp as epoch seconds."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def session_spans(sessions_file: Path) -> dict[str, tuple[float, float]]:
    """(first, last) timestamp in seconds of every session in a PostHog event JSONL(.gz) file."""
    spans: dict[str, list[float]] = defaultdict(list)
    opener = gzip.open if sessions_file.suffix == ".gz" else open
    with opener(sessions_file, "rt", encoding="utf-8") as lines:
        for line in lines:
            event = json.loads(line)
            props = event.get("properties") or {}
            sid = props.get("$session_id")
            if not sid:
                continue
            times = [_ts(event["timestamp"])]
            for item in props.get("$snapshot_data") or []:
                if isinstance(item, dict) and "timestamp" in item:
                    times.append(item["timestamp"] / 1000)
            span = spans[sid]
            span.append(min(times))
            span.append(max(times))
    return {sid: (min(v), max(v)) for sid, v in spans.items()}


def dataset_stats(sessions_file: Path, labels_file: Path) -> dict:
    """Everything a reader of the dataset wants to know first."""
    labels = [json.loads(line) for line in labels_file.read_text().splitlines() if line.strip()]
    spans = session_spans(sessions_file)
    durations = sorted(spans[row["session_id"]][1] - spans[row["session_id"]][0]
                       for row in labels if row["session_id"] in spans)
    kinds: Counter[str] = Counter()
    for row in labels:
        for bucket in ("blocking", "non_blocking", "noise"):
            for item in row[bucket]:
                kinds[f"{item['kind']} ({bucket})"] += 1
    noise_only = sum(1 for r in labels if not r["blocking"] and not r["non_blocking"] and r["noise"])
    clean = sum(1 for r in labels if not r["blocking"] and not r["non_blocking"] and not r["noise"])

    def quantile(q: float) -> float:
        """The duration at quantile q."""
        return round(durations[min(len(durations) - 1, int(q * len(durations)))], 1) if durations else 0.0

    return {
        "bytes": sessions_file.stat().st_size + labels_file.stat().st_size,
        "sessions": len(labels),
        "sessions_in_events_file": len(spans),
        "duration_seconds": {
            "min": round(durations[0], 1) if durations else 0.0, "p25": quantile(0.25),
            "median": round(statistics.median(durations), 1) if durations else 0.0,
            "p75": quantile(0.75), "max": round(durations[-1], 1) if durations else 0.0,
            "over_3_minutes": sum(1 for d in durations if d > 180),
        },
        "outcomes": dict(Counter(r["outcome"] for r in labels)),
        "journeys": dict(Counter(r["journey"] for r in labels)),
        "with_blocking": sum(1 for r in labels if r["blocking"]),
        "noise_only": noise_only,
        "clean": clean,
        "labels_by_kind": dict(sorted(kinds.items())),
    }
