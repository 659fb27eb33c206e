"""Capture benchmark against Postgres + Redis: gzip /batch/ events and /s/ recordings, accepted and processed.

Starts gunicorn (2 workers x 4 threads) and a Celery worker on the `default` queue against a dedicated
database (created and migrated here), sends gzip `/batch/` requests of 100 events from a pool of client
threads, waits until every raw batch is processed, and prints events/s accepted and processed end to end,
p50/p99 accept latency, and recording MB/s for `/s/`.

    .venv/bin/python bench/bench_capture.py [--batches 400] [--recordings 60] [--clients 8] [--rate 3000]

Two event runs: as fast as the clients can send (throughput), then paced at --rate events/s (latency at
the target load, and whether processing keeps up with it).

Environment: BENCH_PG (default postgres://postgres@127.0.0.1:5432), BENCH_DB (recap_bench),
BENCH_REDIS (redis://127.0.0.1:6379/7; a Redis db no test suite uses).
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_DB", "recap_bench")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/7")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database() -> dict[str, str]:
    """Create (if needed) and migrate the benchmark database; returns the environment for child processes."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB}"')
    env = dict(os.environ, DATABASE_URL=f"{PG}/{DB}", REDIS_URL=REDIS, RECAP_CAPTURE_RATE_LIMIT="0",
               LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="config.settings")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    return env


def setup_django(env: dict[str, str]) -> None:
    """This process talks to the same database (to create the project and watch progress)."""
    os.environ.update(env)
    import django

    django.setup()


def start_servers(env: dict[str, str], port: int, pool: str, concurrency: int, nice: int) -> list[subprocess.Popen]:
    """gunicorn for capture, a Celery worker for the default queue."""
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "-k", "gthread",
         "--threads", "4", "--log-level", "warning"], cwd=ROOT, env=env)
    worker = subprocess.Popen(
        ["nice", "-n", str(nice), sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "-P", pool, "-c", str(concurrency),
         "-n", f"bench-{os.getpid()}@%h", "-l", "WARNING", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "--prefetch-multiplier", "4"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            break
        except OSError:
            time.sleep(0.3)
    time.sleep(3)  # let the worker connect to the broker
    return [web, worker]


def event_bodies(token: str, batches: int, sessions: int = 50) -> list[bytes]:
    """gzip /batch/ bodies of 100 posthog-js-shaped events each."""
    base = datetime.now(timezone.utc) - timedelta(hours=1)
    bodies = []
    for b in range(batches):
        session = f"bench-{uuid.uuid4().hex[:8]}-{b % sessions}"
        events = []
        for i in range(100):
            at = base + timedelta(milliseconds=b * 1000 + i * 10)
            name = ("$pageview", "$autocapture", "$autocapture", "$web_vitals", "$exception")[i % 5]
            events.append({"uuid": str(uuid.uuid4()), "event": name, "timestamp": at.isoformat(),
                           "properties": {"$session_id": session, "$window_id": "w1", "distinct_id": f"u{b % sessions}",
                                          "$current_url": f"https://shop.example/p/{i}", "$event_type": "click",
                                          "$elements_chain": "button.buy:text=\"Buy\"nth-child=\"2\"",
                                          "$browser": "Chrome", "$os": "Linux", "$viewport_width": 1280}})
        bodies.append(gzip.compress(json.dumps({"api_key": token, "batch": events}).encode(), 6))
    return bodies


def recording_bodies(token: str, count: int) -> tuple[list[bytes], int]:
    """gzip /s/ bodies: a $snapshot with a FullSnapshot-sized payload and 400 incremental events each."""
    base = int(time.time() * 1000) - 3_600_000
    bodies, raw_total = [], 0
    for r in range(count):
        t = base + r * 5000
        tree = {"type": 0, "childNodes": [{"type": 2, "tagName": "div", "attributes": {"class": f"row-{n}"},
                                           "childNodes": [{"type": 3, "textContent": f"Product {n} " * 8}], "id": n}
                                          for n in range(300)], "id": 1}
        rr = [{"type": 4, "timestamp": t, "data": {"href": "https://shop.example/", "width": 1280, "height": 800}},
              {"type": 2, "timestamp": t + 1, "data": {"node": tree, "initialOffset": {"left": 0, "top": 0}}}]
        rr += [{"type": 3, "timestamp": t + 10 + i * 10, "data": {"source": 1, "positions": [
            {"x": i % 1280, "y": (i * 7) % 800, "id": 5, "timeOffset": 0}]}} for i in range(400)]
        raw = json.dumps({"api_key": token, "batch": [{"uuid": str(uuid.uuid4()), "event": "$snapshot", "properties": {
            "$session_id": f"bench-rec-{r % 20}", "$window_id": f"w{r}", "distinct_id": "rec",
            "$snapshot_data": rr}}]}).encode()
        raw_total += len(raw)
        bodies.append(gzip.compress(raw, 6))
    return bodies, raw_total


def send_all(port: int, path: str, bodies: list[bytes], clients: int,
             rate: float = 0.0) -> tuple[list[float], float, int]:
    """POST every body from `clients` keep-alive connections, as fast as possible or at `rate` requests/s.

    Returns (latencies in s, wall time in s, non-200 answers).
    """
    work: queue.Queue[tuple[int, bytes]] = queue.Queue()
    for index, body in enumerate(bodies):
        work.put((index, body))
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            try:
                index, body = work.get_nowait()
            except queue.Empty:
                break
            if rate:
                delay = started + index / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            start = time.perf_counter()
            conn.request("POST", path, body=body, headers={"Content-Type": "text/plain"})
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if response.status != 200:
                    failures[0] += 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, failures[0]


def wait_processed(since_pk: int, expected: int, timeout: float = 600) -> float:
    """Seconds until `expected` batches after since_pk are processed (from now)."""
    from summaries.models import RawBatch

    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        done = RawBatch.objects.filter(pk__gt=since_pk, state=RawBatch.State.PROCESSED).count()
        failed = RawBatch.objects.filter(pk__gt=since_pk, state=RawBatch.State.FAILED).count()
        if done + failed >= expected:
            if failed:
                print(f"  {failed} batches FAILED")
            return time.perf_counter() - start
        time.sleep(0.2)
    raise SystemExit("batches were not processed in time")


def in_process_costs(token: str, count: int = 50) -> tuple[float, float]:
    """(ms to accept one 100-event gzip request, ms to process one batch), in this process, one at a time.

    No HTTP, no queue, no concurrency: the CPU + database cost of each step, whatever else the machine does.
    """
    from django.test import Client

    from summaries.ingest import batches
    from summaries.models import RawBatch

    client, bodies = Client(), event_bodies(token, count)
    original, batches.enqueue_batch = batches.enqueue_batch, lambda batch_id: None
    try:
        start = time.perf_counter()
        for body in bodies:
            client.post("/batch/", body, content_type="text/plain")
        accept_ms = (time.perf_counter() - start) / count * 1000
    finally:
        batches.enqueue_batch = original
    ids = list(RawBatch.objects.order_by("-pk").values_list("pk", flat=True)[:count])
    start = time.perf_counter()
    for batch_id in reversed(ids):
        batches.process_batch(batch_id)
    return accept_ms, (time.perf_counter() - start) / count * 1000


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank), in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def main() -> None:
    """Run both benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=400, help="gzip /batch/ requests of 100 events")
    parser.add_argument("--recordings", type=int, default=60, help="/s/ requests")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--pool", default="threads", help="Celery pool of the worker (threads, as `serve` runs it)")
    parser.add_argument("--concurrency", type=int, default=8, help="Celery worker concurrency")
    parser.add_argument("--worker-nice", type=int, default=0,
                        help="run the worker at this nice level (capture answers first, processing catches up)")
    parser.add_argument("--rate", type=float, default=3000, help="events/s of the paced run (the target)")
    args = parser.parse_args()

    env = prepare_database()
    setup_django(env)
    from summaries.models import Organization, Project, RawBatch

    org, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    project, _ = Project.objects.get_or_create(organization=org, name="Bench")
    port = free_port()
    procs = start_servers(env, port, args.pool, args.concurrency, args.worker_nice)
    try:
        print(f"machine: {os.cpu_count()} cores; gunicorn 2x4 threads, celery {args.pool} -c {args.concurrency} "
              f"(nice {args.worker_nice}); "
              f"database {DB}")
        before = RawBatch.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        warm, _ = recording_bodies(project.capture_token, 2)
        warm += event_bodies(project.capture_token, 4)
        send_all(port, "/s/", warm, 2)
        wait_processed(before, len(warm))
        last = RawBatch.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

        for label, rate in (("as fast as possible", 0.0), (f"paced at {args.rate:,.0f} events/s", args.rate / 100)):
            bodies = event_bodies(project.capture_token, args.batches)
            events = 100 * len(bodies)
            t0 = time.perf_counter()
            latencies, wall, failures = send_all(port, "/batch/", bodies, args.clients, rate)
            processed_after = wait_processed(last, len(bodies))
            total = time.perf_counter() - t0
            last = RawBatch.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            print(f"events, {label}: {len(bodies)} gzip /batch/ requests x 100 events, {args.clients} clients, "
                  f"{failures} non-200")
            print(f"  accepted: {events / wall:,.0f} events/s ({len(bodies) / wall:,.1f} requests/s)")
            print(f"  processed end to end: {events / total:,.0f} events/s "
                  f"(all processed {processed_after:.1f} s after the last request was accepted)")
            print(f"  accept latency: p50 {pct(latencies, 50):.1f} ms, p99 {pct(latencies, 99):.1f} ms, "
                  f"max {max(latencies) * 1000:.1f} ms")

        last = RawBatch.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        bodies, raw_bytes = recording_bodies(project.capture_token, args.recordings)
        t0 = time.perf_counter()
        latencies, wall, failures = send_all(port, "/s/", bodies, args.clients)
        wait_processed(last, len(bodies))
        total = time.perf_counter() - t0
        mb, gz_mb = raw_bytes / 1e6, sum(map(len, bodies)) / 1e6
        print(f"recordings: {len(bodies)} /s/ requests, {mb:.1f} MB of rrweb JSON ({gz_mb:.1f} MB gzip), "
              f"{failures} non-200")
        print(f"  accepted: {mb / wall:.1f} MB/s; processed end to end: {mb / total:.1f} MB/s")
        print(f"  accept latency: p50 {pct(latencies, 50):.1f} ms, p99 {pct(latencies, 99):.1f} ms")

        accept_ms, process_ms = in_process_costs(project.capture_token)
        print("in-process cost, one at a time (no HTTP, no queue, no concurrency):")
        print(f"  accept one 100-event gzip request: {accept_ms:.1f} ms (~{100_000 / accept_ms:,.0f} events/s per core)")
        print(f"  process one 100-event batch: {process_ms:.1f} ms (~{100_000 / process_ms:,.0f} events/s per core)")
        load = os.getloadavg()
        print(f"load average during the run (other work on this machine shares its {os.cpu_count()} cores): "
              f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
