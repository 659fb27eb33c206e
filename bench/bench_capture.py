"""Capture benchmark on Postgres + Redis: real posthog-js traffic replayed, processing lag, memory of big bodies.

Starts gunicorn (gthread) and a Celery worker on the `default` queue against a dedicated database (created and
migrated here), then:

1. replays the bundled sample's requests as posthog-js sent them (`sample_data/sessions.jsonl.gz`, regrouped the
   way the SDK batches: analytics events flushed together within `--window` seconds to /i/v0/e/, each `$snapshot`
   to /s/, all gzip `text/plain`), with fresh session ids and uuids per round, paced at `--rate` requests/s from
   `--clients` keep-alive connections (open loop: latency counts from when a request was due, so a server that
   falls behind shows it); prints requests/s, events/s, p50/p99 accept latency and the processing lag (a batch's
   processed_at minus its received_at) p50/p99/max;
2. the same requests as fast as the clients can send them (throughput);
3. peak RSS (VmHWM) of a fresh one-process gunicorn receiving 1, then 4 concurrent 19 MB bodies (an events
   batch and a recording).

    .venv/bin/python bench/bench_capture.py [--rate 300] [--rounds 3] [--clients 32] [--window 1.0]

Environment: BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_DB (recap_bench_ingest), BENCH_REDIS
(redis://127.0.0.1:6379/11). Figures move a lot when other work shares the machine's cores: the load average is
printed with them.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_DB", "recap_bench_ingest")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/11")
SAMPLE = ROOT / "sample_data" / "sessions.jsonl.gz"
MB = 1024 * 1024


@dataclass
class SdkRequest:
    """One request as posthog-js sends it."""

    path: str
    body: bytes
    events: int


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database() -> dict[str, str]:
    """Create (if needed) and migrate the benchmark database; returns the environment for child processes."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DB}"')
    env = dict(os.environ, DATABASE_URL=f"{PG}/{DB}", REDIS_URL=REDIS, RECAP_CAPTURE_RATE_LIMIT="0",
               LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="config.settings")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    return env


def start_web(env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen:
    """gunicorn as compose runs it (gthread workers); returns once /healthz answers."""
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w",
                            str(workers), "-k", "gthread", "--threads", str(threads), "--log-level", "warning"],
                           cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return web
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not start")


def start_worker(env: dict[str, str], concurrency: int) -> subprocess.Popen:
    """A Celery worker for the default queue (capture processing), as `serve` runs it (threads)."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "-P", "threads", "-c",
         str(concurrency), "-n", f"bench-{os.getpid()}@%h", "-l", "WARNING", "--without-gossip",
         "--without-mingle", "--without-heartbeat"], cwd=ROOT, env=env)
    time.sleep(5)  # connected to the broker
    return worker


def stop(procs: list[subprocess.Popen]) -> None:
    """Terminate, then kill what does not exit."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def sample_events() -> list[dict]:
    """The bundled sample: PostHog events as posthog-js sent them, `$snapshot` included."""
    with gzip.open(SAMPLE, "rt") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def sdk_requests(events: list[dict], token: str, round_no: int, window: float) -> list[SdkRequest]:
    """The sample regrouped into requests as the SDK sends them, with fresh session ids and uuids for this round,
    in the order they were sent."""
    by_session: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        by_session[event["properties"].get("$session_id", "")].append(event)
    timed: list[tuple[str, SdkRequest]] = []
    for session_id, items in by_session.items():
        items.sort(key=lambda e: e["timestamp"])
        group: list[dict] = []
        group_start = 0.0

        def flush() -> None:
            if group:
                timed.append((group[0]["timestamp"], pack("/i/v0/e/", group, token)))

        for event in items:
            event = {**event, "uuid": str(uuid.uuid4()),
                     "properties": {**event["properties"], "$session_id": f"{session_id}-r{round_no}", "token": token}}
            at = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()
            if event["event"] == "$snapshot":
                timed.append((event["timestamp"], pack("/s/", [event], token)))
                continue
            if not group or at - group_start > window:
                flush()
                group, group_start = [], at
            group.append(event)
        flush()
    timed.sort(key=lambda item: item[0])
    return [request for _, request in timed]


def pack(path: str, events: list[dict], token: str) -> SdkRequest:
    """A gzip text/plain body, as posthog-js 1.4xx sends it."""
    return SdkRequest(f"{path}?ver=1.449.2&_={int(time.time() * 1000)}", gzip.compress(json.dumps(events).encode()),
                      len(events))


def send(port: int, requests: list[SdkRequest], clients: int, rate: float = 0.0) -> tuple[list[float], float, dict]:
    """POST every request from `clients` keep-alive connections, at `rate` requests/s or as fast as possible.

    Returns (latencies in s, counted from when each request was due; wall time; status counts).
    """
    latencies: list[float] = []
    statuses: dict[int, int] = defaultdict(int)
    lock = threading.Lock()
    cursor = iter(range(len(requests)))
    started = time.perf_counter()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            due = started + index / rate if rate else time.perf_counter()
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            request = requests[index]
            try:
                conn.request("POST", request.path, body=request.body,
                             headers={"Content-Type": "text/plain", "Origin": "https://shop.test"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 0
            with lock:
                latencies.append(time.perf_counter() - due)
                statuses[status] += 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, dict(statuses)


def wait_processed(since_pk: int, timeout: float = 600) -> None:
    """Wait until no batch after since_pk is pending."""
    from summaries.models import RawBatch

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not RawBatch.objects.filter(pk__gt=since_pk, state=RawBatch.State.PENDING).exists():
            return
        time.sleep(0.2)
    raise SystemExit("batches were not processed in time")


def lags(since_pk: int) -> list[float]:
    """Seconds from accepting each batch after since_pk to having processed it."""
    from summaries.models import RawBatch

    rows = RawBatch.objects.filter(pk__gt=since_pk, processed_at__isnull=False).values_list("received_at",
                                                                                           "processed_at")
    return [(done - received).total_seconds() for received, done in rows]


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def last_batch() -> int:
    """The newest raw batch id."""
    from summaries.models import RawBatch

    return RawBatch.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def cpu_seconds(roots: list[int]) -> float:
    """CPU time (user + system) used so far by these processes and all their descendants still alive."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            parents[int(entry)] = int(fields[1])
            times[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    total, todo = 0.0, list(roots)
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


def replay(port: int, requests: list[SdkRequest], clients: int, rate: float, label: str,
           servers: list[subprocess.Popen]) -> None:
    """Send, wait for processing, print the figures (with the CPU our servers used, whatever else ran)."""
    before = last_batch()
    cpu_before = [cpu_seconds([p.pid]) for p in servers]
    latencies, wall, statuses = send(port, requests, clients, rate)
    wait_processed(before)
    web_cpu, worker_cpu = (cpu_seconds([p.pid]) - b for p, b in zip(servers, cpu_before))
    cpu = web_cpu + worker_cpu
    events = sum(r.events for r in requests)
    lag = lags(before)
    print(f"{label}: {len(requests)} requests ({events} events, {events / len(requests):.2f} per request), "
          f"{clients} connections, answers {statuses}")
    print(f"  {len(requests) / wall:,.0f} requests/s, {events / wall:,.0f} events/s; accept latency "
          f"p50 {pct(latencies, 50) * 1000:.1f} ms, p99 {pct(latencies, 99) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.0f} ms")
    print(f"  processing lag: p50 {pct(lag, 50):.2f} s, p99 {pct(lag, 99):.2f} s, max {max(lag):.2f} s")
    print(f"  CPU of web + worker: {cpu * 1000 / len(requests):.1f} ms per request accepted and processed "
          f"({web_cpu * 1000 / len(requests):.1f} accepting, {worker_cpu * 1000 / len(requests):.1f} processing) "
          f"(~{len(requests) / cpu * os.cpu_count():,.0f} requests/s if they had the {os.cpu_count()} cores alone; "
          f"Postgres and Redis not counted)")


def big_bodies(token: str, count: float = 1.0) -> dict[str, tuple[str, bytes, int]]:
    """19 MB bodies (`count` scales them): an events batch of ~2 kB events, and a recording of rrweb events."""
    filler = "product description " * 88
    events = [{"uuid": str(uuid.uuid4()), "event": "$autocapture", "distinct_id": "big", "timestamp":
               "2026-11-24T05:26:32.741Z", "properties": {"$session_id": "big", "token": token, "text": filler,
                                                          "n": i}} for i in range(int(10_000 * count))]
    events_json = json.dumps(events).encode()
    node = {"type": 2, "tagName": "div", "attributes": {"class": "row"}, "childNodes": [
        {"type": 3, "textContent": "Product name and a short description", "id": 0}], "id": 0}
    rrweb = [{"type": 3, "timestamp": 1795497992000 + i, "data": {"source": 0, "adds": [
        {"parentId": 1, "nextId": None, "node": {**node, "id": i}} for _ in range(6)], "removes": [], "texts": [],
        "attributes": []}} for i in range(int(14_500 * count))]
    recording_json = json.dumps([{"event": "$snapshot", "distinct_id": "big", "properties": {
        "$session_id": "big-rec", "$window_id": "w", "token": token, "$snapshot_data": rrweb}}]).encode()
    return {"events batch": ("/e/", gzip.compress(events_json, 6), len(events_json)),
            "recording": ("/s/", gzip.compress(recording_json, 6), len(recording_json))}


def peak_rss(env: dict[str, str], path: str, body: bytes, small: bytes,
             concurrent: int) -> tuple[float, float, list[int]]:
    """(baseline MB, peak MB, answers) of a fresh one-process gunicorn receiving `concurrent` copies of a body at
    once, after one small request of the same kind."""
    port = free_port()
    web = start_web(env, port, workers=1, threads=max(4, concurrent))
    try:
        child = next(int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == web.pid)
        # One small request of the same kind first: the code it loads is not the body's cost.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", path, body=small, headers={"Content-Type": "text/plain"})
        conn.getresponse().read()
        baseline = _status(child, "VmRSS")
        statuses: list[int] = []

        def post() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            conn.request("POST", path, body=body, headers={"Content-Type": "text/plain"})
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)

        threads = [threading.Thread(target=post) for _ in range(concurrent)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return baseline, _status(child, "VmHWM"), statuses
    finally:
        stop([web])


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def _status(pid: int, field: str) -> float:
    """A /proc/<pid>/status memory field in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_replays(args: argparse.Namespace, env: dict[str, str], token: str) -> None:
    """Warm up, then the sample's requests paced and as fast as possible, against gunicorn and a worker."""
    from summaries.ingest.tasks import sweep_pending_batches

    events = sample_events()
    port = free_port()
    procs = [start_web(env, port, args.web_workers, args.web_threads), start_worker(env, args.worker_concurrency)]
    try:
        print(f"machine: {os.cpu_count()} cores (shared); gunicorn {args.web_workers} x {args.web_threads} threads, "
              f"celery threads -c {args.worker_concurrency}; database {DB}")
        sweep_pending_batches(older_than_seconds=0)  # batches an earlier run left (the memory test has no worker)
        wait_processed(0)
        replay(port, sdk_requests(events, token, 0, args.window)[:200], 8, 0, "warm-up", procs)
        paced = [r for n in range(1, args.rounds + 1) for r in sdk_requests(events, token, n, args.window)]
        replay(port, paced, args.clients, args.rate, f"posthog-js replay paced at {args.rate:.0f} requests/s", procs)
        fast = [r for n in range(100, 100 + args.rounds) for r in sdk_requests(events, token, n, args.window)]
        replay(port, fast, args.clients, 0, "posthog-js replay as fast as possible", procs)
    finally:
        stop(procs)


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300, help="requests/s of the paced replay")
    parser.add_argument("--rounds", type=int, default=3, help="copies of the sample's requests per run")
    parser.add_argument("--clients", type=int, default=32, help="concurrent client connections")
    parser.add_argument("--window", type=float, default=1.0, help="seconds of events the SDK flushes together")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=8)
    parser.add_argument("--worker-concurrency", type=int, default=4)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-replay", action="store_true")
    args = parser.parse_args()

    env = prepare_database()
    os.environ.update(env)
    import django

    django.setup()
    from summaries.models import Organization, Project

    org, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    project, _ = Project.objects.get_or_create(organization=org, name="Bench")
    if not args.skip_replay:
        run_replays(args, env, project.capture_token)
    if not args.skip_memory:
        small = {label: body for label, (_, body, _) in big_bodies(project.capture_token, 0.001).items()}
        for label, (path, body, raw_size) in big_bodies(project.capture_token).items():
            for concurrent in (1, 4):
                baseline, peak, statuses = peak_rss(env, path, body, small[label], concurrent)
                print(f"peak RSS, {concurrent} x {raw_size / MB:.1f} MB {label} ({len(body) / MB:.1f} MB gzip) at once: "
                      f"{peak:.0f} MB (idle {baseline:.0f} MB, +{peak - baseline:.0f} MB = "
                      f"{(peak - baseline) / (raw_size / MB) / concurrent:.1f}x the body per request); "
                      f"answers {sorted(statuses)}")
    load = os.getloadavg()
    print(f"load average (other work shares these {os.cpu_count()} cores): {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
