"""Report intake on PostgreSQL: the real API under load, against raw inserts, and under overload.

    .venv/bin/python bench/intake.py                 # 60 s at 16 clients, then 20 s of overload
    INTAKE_SECONDS=10 .venv/bin/python bench/intake.py   # a quick check
    .venv/bin/python bench/intake.py --server uvicorn    # another server (see --help)

Needs PostgreSQL on 127.0.0.1:5432 (user ``postgres``, no password) with ``pgbench``, and Redis on
127.0.0.1:6379 (database 1 is flushed). Steps, all in one run:

1. Recreate the database ``convive_bench``, migrate it, load the demo city (7 localities, 48
   neighbourhoods, 70 quadrants, its institutions, catalogue and routing rules).
2. Raw-insert baseline: ``pgbench -n -c 16 -j 2 -T 20`` inserting into ``bench_raw``, made with
   ``CREATE TABLE ... (LIKE reports_report INCLUDING ALL)`` (same columns, indexes and unique keys),
   one row per transaction. Measured before the server starts, so it has the machine to itself.
3. Start the real server as a separate process with production settings (``DEBUG=false``,
   persistent connections, Redis cache, null SMS) and warm it up.
4. Sustained load: 16 closed-loop clients (asyncio, keep-alive, in 2 processes) post anonymous
   reports to ``POST /api/v1/reports`` for ``INTAKE_SECONDS`` (60). Each report has its own
   idempotency key; on a timeout, a broken connection, a 5xx or a 429/503 the client sends the same
   key again (after ``Retry-After`` when given). Every 50th report is sent a second time after it
   was accepted (a double tap): the answer must be 200 with the same id. Latency is from the first
   attempt to the accepting answer.
5. Overload: an open-loop arrival rate of twice the sustained rate for ``INTAKE_OVERLOAD_SECONDS``
   (20), one attempt per arrival, latency from the scheduled arrival. Then every key that was not
   accepted is sent again, 4 at a time, until it is, as a client would.
6. Count rows: ``lost`` = accepted keys without a row (or whose row has another id than the client
   was told); ``duplicated`` = keys or description markers with more than one row.

The last line is the headline:
``intake: <N> reports/s = <R>% of raw insert, p95 <P> ms, lost <L>, duplicated <D>``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from common import ROOT, machine_summary, percentile, start_server, stop_server

DB_NAME = "convive_bench"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/1"
HOST, PORT = "127.0.0.1", 8765
PATH = "/api/v1/reports"
CLIENTS = 16
CLIENT_PROCESSES = 2
SECONDS = int(os.environ.get("INTAKE_SECONDS", "60"))
OVERLOAD_SECONDS = int(os.environ.get("INTAKE_OVERLOAD_SECONDS", "20"))
RAW_SECONDS = int(os.environ.get("INTAKE_RAW_SECONDS", "20"))
ATTEMPT_TIMEOUT = 10.0  # seconds: an answer slower than this counts as a timeout
MAX_ATTEMPTS = 20
DOUBLE_TAP_EVERY = 50
SEED = 4
MARKER = "Reporte de carga"  # every benchmark report's description starts so, then its key


# --- The database -------------------------------------------------------------------------------


def recreate_database() -> None:
    import psycopg

    try:
        conn = psycopg.connect(ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        sys.exit(f"bench/intake.py needs PostgreSQL at {ADMIN_URL}: {exc}")
    with conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def server_environment(scratch: Path) -> dict[str, str]:
    """Production settings, as docs/deploy.md gives them, on loopback."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="convive.settings",
        DEBUG="false",
        SECRET_KEY="bench-intake-" + "x" * 50,
        DATABASE_URL=DATABASE_URL,
        DB_CONN_MAX_AGE="600",
        # Server-side binding, statements prepared after 5 uses (no PgBouncer here).
        DB_PREPARE_THRESHOLD=os.environ.get("DB_PREPARE_THRESHOLD", "5"),
        REDIS_URL=REDIS_URL,
        SMS_BACKEND="convive.integrations.sms.console.NullSmsBackend",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        CONVIVE_DATA_DIR=str(scratch),
        MEDIA_ROOT=str(scratch / "media"),
        STATIC_ROOT=str(scratch / "static"),
        # The clients all come from 127.0.0.1: lift the per-address limit for them only.
        RATE_LIMIT_TRUSTED_ADDRESSES="127.0.0.1",
        PYTHONPATH=str(ROOT),
    )
    return env


@dataclass
class World:
    city_id: int
    categories: list[tuple[str, dict]]  # (code, answers)
    points: list[tuple[float, float]]  # lon, lat inside a neighbourhood


def load_world() -> World:
    """The demo city with its catalogue and routing rules; what to report, and where."""
    from django.core.management import call_command
    from django.db import transaction

    from convive.demo.actions import check_load_demo

    call_command("migrate", verbosity=0)
    with transaction.atomic(durable=True):
        demo = check_load_demo(None, seed=2026)
    return World(demo.city.pk, report_kinds(), random_points(demo.city, 2000))


def report_kinds() -> list[tuple[str, dict]]:
    """Each active, non-urgent category of the catalogue, with answers to its required questions."""
    from convive.reports.models import Category, Question

    sample = {
        Question.Datatype.STRING: "Frente a la tienda",
        Question.Datatype.TEXT: "Pasa casi todas las noches.",
        Question.Datatype.NUMBER: 2,
        Question.Datatype.DATETIME: "2026-11-20T21:30:00",
    }
    kinds = []
    for category in Category.objects.filter(active=True, urgent=False).order_by("pk"):
        answers = {}
        for question in category.questions.filter(required=True):
            first = question.values[0]["key"] if question.values else None
            if question.datatype == Question.Datatype.MULTI:
                answers[question.code] = [first]
            else:
                answers[question.code] = first or sample[question.datatype]
        kinds.append((category.code, answers))
    return kinds


def random_points(city, count: int) -> list[tuple[float, float]]:
    """Points inside a neighbourhood of the city, drawn in its bounding box."""
    from django.db.models import Max, Min

    from convive.territories.models import Territory
    from convive.territories.queries import locate_many

    box = Territory.objects.filter(city=city).aggregate(
        Min("min_lon"), Min("min_lat"), Max("max_lon"), Max("max_lat")
    )
    rng = random.Random(SEED)
    points: list[tuple[float, float]] = []
    while len(points) < count:
        lons = [rng.uniform(box["min_lon__min"], box["max_lon__max"]) for _ in range(1000)]
        lats = [rng.uniform(box["min_lat__min"], box["max_lat__max"]) for _ in range(1000)]
        for lon, lat, found in zip(lons, lats, locate_many(city, lons, lats), strict=True):
            if "neighbourhood" in found:
                points.append((round(lon, 6), round(lat, 6)))
    return points[:count]


# --- The raw-insert baseline --------------------------------------------------------------------

RAW_INSERT = """\
\\set cell random(1, 999999)
INSERT INTO bench_raw (tracking_code, idempotency_key, city_id, category_id, status, is_urgent,
  channel, description, answers, lon, lat, h3_cell, address, locality_id, neighbourhood_id,
  institution_id, routing_note, is_anonymous, contact_name, contact_email, contact_phone,
  media_url, outcome, rating_comment, supporters_count, is_hidden, hidden_reason, created_at,
  updated_at)
VALUES (upper(substr(md5(random()::text), 1, 12)),
  'raw-' || md5(random()::text || clock_timestamp()),
  1, 1, 'received', false, 'app', 'bench raw insert ' || :client_id || ' ' || :cell,
  '{"horario": "noche"}', -74.1 + random() / 10, 4.6 + random() / 10, '88' || :cell, '', 1, 2, 1,
  'Rule for Kennedy.', true, '', '', '', '', '', '', 0, false, '', now(), now());
"""


def raw_insert_rate(scratch: Path) -> tuple[float, int]:
    """pgbench's tps for one-row INSERT transactions into a copy of the reports table."""
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw")
        conn.execute("CREATE TABLE bench_raw (LIKE reports_report INCLUDING ALL)")
    script = scratch / "insert.sql"
    script.write_text(RAW_INSERT)
    command = ["pgbench", "-n", "-c", "16", "-j", "2", "-T", str(RAW_SECONDS), "-f", str(script)]
    command += ["-h", "127.0.0.1", "-U", "postgres", DB_NAME]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT count(*) FROM bench_raw").fetchone()[0]
        conn.execute("DROP TABLE bench_raw")
    return tps, rows


# --- The server ---------------------------------------------------------------------------------

SERVERS = {
    # WSGI in a Rust HTTP server (docs/deploy.md): HTTP parsing and connections outside Python,
    # the app in a pool of threads per process, so requests wait in the shedder, not unseen.
    "granian": [
        "granian",
        "--interface",
        "wsgi",
        "--workers",
        "{workers}",
        "--blocking-threads",
        "{threads}",
        "--no-access-log",
        "--log-level",
        "warning",
    ],
    # WSGI, threads in each process: keep-alive, and requests wait in the shedder, not unseen.
    "gunicorn-gthread": ["gunicorn", "--workers", "{workers}", "--threads", "{threads}"],
    # WSGI, one request at a time per process; the connection is closed after each answer.
    "gunicorn-sync": ["gunicorn", "--workers", "{workers}", "--worker-class", "sync"],
    # ASGI: an event loop per process; Django runs the sync view in a thread through asgiref.
    "uvicorn": ["uvicorn", "--workers", "{workers}", "--no-access-log", "--loop", "uvloop"],
    # ASGI, one process (what docs/deploy.md ran before; it has no --workers).
    "daphne": ["daphne"],
}


# Servers compared here but not in requirements.txt, and how to install them.
INSTALL = {
    "gunicorn": "gunicorn==27.0.1",
    "uvicorn": "uvicorn==0.54.0 uvloop==0.23.0",
}


def server_command(name: str, workers: int, threads: int) -> list[str]:
    program = SERVERS[name][0]
    binary = str(Path(sys.executable).parent / program)
    if not Path(binary).exists():
        sys.exit(
            f"{program} is not installed: .venv/bin/pip install {INSTALL.get(program, program)}"
        )
    args = [arg.format(workers=workers, threads=threads) for arg in SERVERS[name][1:]]
    if name.startswith("gunicorn"):
        address = ["--bind", f"{HOST}:{PORT}", "--backlog", "2048", "--keep-alive", "75"]
        return [binary, *args, *address, "convive.wsgi:application"]
    if name == "granian":
        address = ["--host", HOST, "--port", str(PORT), "--backlog", "2048"]
        return [binary, *args, *address, "convive.wsgi:application"]
    if name == "uvicorn":
        address = ["--host", HOST, "--port", str(PORT), "--backlog", "2048"]
        return [binary, *args, *address, "--timeout-keep-alive", "75", "convive.asgi:application"]
    return [binary, "--bind", HOST, "--port", str(PORT), "convive.asgi:application"]


# --- CPU accounting -----------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stats() -> list[tuple[int, int, str, float]]:
    """(pid, ppid, command, cpu seconds) of every process."""
    stats = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        stats.append((int(entry.name), int(fields[1]), name, (int(fields[11]) + int(fields[12]))))
    return [(pid, ppid, name, ticks / TICKS) for pid, ppid, name, ticks in stats]


def cpu_snapshot(server_pid: int | None) -> dict[str, float]:
    """CPU seconds used so far by the server's processes, PostgreSQL, Redis and the machine."""
    stats = _proc_stats()
    family = {server_pid} if server_pid else set()
    for _ in range(3):  # the server's children and their children
        family |= {pid for pid, ppid, _name, _cpu in stats if ppid in family}
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]  # guest time is already in user
    return {
        "at": time.monotonic(),
        "server": sum(cpu for pid, _p, _n, cpu in stats if pid in family),
        "postgres": sum(
            cpu for _pid, _p, name, cpu in stats if name.startswith(("postgres", "pg"))
        ),
        "redis": sum(cpu for _pid, _p, name, cpu in stats if name.startswith("redis")),
        "machine": (sum(fields) - fields[3] - fields[4]) / TICKS,  # all but idle and iowait
    }


def cpu_used(before: dict[str, float], after: dict[str, float], clients: float) -> dict:
    """CPU seconds used between two snapshots, per part; ``other`` is the rest of the machine."""
    used = {k: after[k] - before[k] for k in ("server", "postgres", "redis")}
    used["clients"] = clients
    used["other"] = max(0.0, after["machine"] - before["machine"] - sum(used.values()))
    used["seconds"] = after["at"] - before["at"]
    return used


def describe_cpu(used: dict, reports: int) -> str:
    seconds = used["seconds"]
    parts = [k for k in used if k != "seconds"]
    busy = sum(used[k] for k in parts) / seconds
    cores = ", ".join(f"{k} {used[k] / seconds:.2f}" for k in parts)
    per_report = ", ".join(
        f"{k} {1000 * used[k] / max(reports, 1):.1f}" for k in ("server", "postgres", "clients")
    )
    return (
        f"  cores busy (of {os.cpu_count()}): {busy:.2f} = {cores}\n"
        f"  CPU ms per accepted report: {per_report}"
    )


# --- The clients --------------------------------------------------------------------------------


class HttpError(Exception):
    """The connection broke or the answer did not parse."""


class Connection:
    """One keep-alive HTTP/1.1 connection that reconnects when the server closes it."""

    def __init__(self) -> None:
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, PORT)
        try:
            self.writer.write(raw)
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            if "content-length" in headers:
                body = await self.reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding") == "chunked":
                body = await self._chunked()
            else:
                body = await self.reader.read()
                headers["connection"] = "close"
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            self.close()
            raise HttpError(repr(exc)) from exc
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    async def _chunked(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            parts.append(await self.reader.readexactly(size + 2))
            if size == 0:
                return b"".join(p[:-2] for p in parts)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def encode(key: str, point: tuple[float, float], category: tuple[str, dict]) -> bytes:
    body = json.dumps(
        {
            "category": category[0],
            "lon": point[0],
            "lat": point[1],
            "address": "",
            "description": f"{MARKER} {key}: el marcador es la clave.",
            "answers": category[1],
            "anonymous": True,
            "idempotency_key": key,
        }
    ).encode()
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nX-Forwarded-Proto: https\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class Tally:
    """What one client process saw."""

    accepted: dict[str, int] = field(default_factory=dict)  # key -> report id
    latencies: list[float] = field(default_factory=list)  # ms, per accepted report
    statuses: Counter = field(default_factory=Counter)  # every attempt's status (0: no answer)
    refusals: list[float] = field(default_factory=list)  # ms, answers 429/503
    retries: int = 0
    replays_ok: int = 0
    replays_bad: int = 0
    timeouts: int = 0
    unaccepted: list[bytes] = field(default_factory=list)  # requests to send again later
    gave_up: int = 0
    cpu: float = 0.0
    error: str = ""  # why the client process stopped early


async def attempt(conn: Connection, raw: bytes, tally: Tally) -> tuple[int, dict, bytes]:
    try:
        status, headers, body = await asyncio.wait_for(conn.request(raw), ATTEMPT_TIMEOUT)
    except TimeoutError:
        conn.close()
        tally.timeouts += 1
        status, headers, body = 0, {}, b""
    except HttpError:
        status, headers, body = 0, {}, b""
    tally.statuses[status] += 1
    return status, headers, body


async def submit(conn: Connection, key: str, raw: bytes, tally: Tally, *, replay: bool) -> None:
    """Send one report until it is accepted, retrying with the same key."""
    started = time.perf_counter()
    for _ in range(MAX_ATTEMPTS):
        sent = time.perf_counter()
        status, headers, body = await attempt(conn, raw, tally)
        if status in (200, 201):
            report_id = json.loads(body)["id"]
            if replay:
                same = status == 200 and tally.accepted.get(key) == report_id
                tally.replays_ok += same
                tally.replays_bad += not same
            else:
                tally.accepted[key] = report_id
                tally.latencies.append((time.perf_counter() - started) * 1000)
            return
        if status in (429, 503):
            tally.refusals.append((time.perf_counter() - sent) * 1000)
        elif 400 <= status < 500:
            raise SystemExit(f"the API refused a report ({status}): {body[:300]!r}")
        tally.retries += 1
        await asyncio.sleep(float(headers.get("retry-after", "0.05")))
    tally.gave_up += 1


async def closed_loop(cid: int, plan: dict, tally: Tally) -> None:
    conn = Connection()
    rng = random.Random(cid)
    deadline = plan["deadline"]
    n = 0
    while time.time() < deadline:
        key = f"{plan['prefix']}-{cid:03d}-{n:07d}"
        raw = encode(key, rng.choice(plan["points"]), rng.choice(plan["categories"]))
        await submit(conn, key, raw, tally, replay=False)
        if n % DOUBLE_TAP_EVERY == DOUBLE_TAP_EVERY - 1 and key in tally.accepted:
            await submit(conn, key, raw, tally, replay=True)
        n += 1
    conn.close()


async def open_loop(plan: dict, tally: Tally) -> None:
    """Arrivals at a fixed rate, one attempt each, whatever the server's pace (no backpressure)."""
    idle: list[Connection] = []
    rng = random.Random(plan["first_cid"])
    rate, started = plan["rate"], plan["start"]
    tasks = set()

    async def one(key: str, raw: bytes, scheduled: float) -> None:
        conn = idle.pop() if idle else Connection()
        status, _headers, body = await attempt(conn, raw, tally)
        elapsed = (time.time() - scheduled) * 1000
        idle.append(conn)
        if status in (200, 201):
            tally.accepted[key] = json.loads(body)["id"]
            tally.latencies.append(elapsed)
            return
        if status in (429, 503):
            tally.refusals.append(elapsed)
        tally.unaccepted.append(raw)

    for n in range(int(rate * plan["seconds"])):
        scheduled = started + n / rate
        await asyncio.sleep(max(0.0, scheduled - time.time()))
        key = f"{plan['prefix']}-{plan['first_cid']:03d}-{n:07d}"
        raw = encode(key, rng.choice(plan["points"]), rng.choice(plan["categories"]))
        task = asyncio.create_task(one(key, raw, scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    for conn in idle:
        conn.close()


async def send_again(plan: dict, tally: Tally) -> None:
    """After the overload: every refused or unanswered key again, 4 at a time, until accepted."""
    pending = list(plan["pending"])

    async def worker() -> None:
        conn = Connection()
        while pending:
            raw = pending.pop()
            key = json.loads(raw.split(b"\r\n\r\n", 1)[1])["idempotency_key"]
            await submit(conn, key, raw, tally, replay=False)
        conn.close()

    await asyncio.gather(*(worker() for _ in range(4)))


def client_process(plan: dict, queue: multiprocessing.Queue) -> None:
    tally = Tally()
    time.sleep(max(0.0, plan["start"] - time.time()))
    started = time.process_time()

    async def run() -> None:
        if plan["mode"] == "closed":
            await asyncio.gather(*(closed_loop(c, plan, tally) for c in plan["cids"]))
        elif plan["mode"] == "open":
            await open_loop(plan, tally)
        else:
            await send_again(plan, tally)

    try:
        asyncio.run(run())
    except (SystemExit, Exception) as exc:  # handed to the parent, which stops the run
        tally.error = str(exc) or repr(exc)
    tally.cpu = time.process_time() - started
    queue.put(tally)


def run_clients(plans: list[dict], start: float, server_pid: int) -> tuple[Tally, dict]:
    """Run each plan in its own process; merge what they saw; the CPU used from ``start`` on."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=client_process, args=(p, queue)) for p in plans]
    for process in processes:
        process.start()
    time.sleep(max(0.0, start - time.time()))
    before = cpu_snapshot(server_pid)
    tallies = [queue.get(timeout=SECONDS + OVERLOAD_SECONDS + 900) for _ in processes]
    after = cpu_snapshot(server_pid)
    for process in processes:
        process.join()
    errors = [t.error for t in tallies if t.error]
    if errors:
        raise SystemExit(f"a client stopped: {errors[0]}")
    total = Tally()
    for t in tallies:
        total.accepted.update(t.accepted)
        total.latencies += t.latencies
        total.statuses += t.statuses
        total.refusals += t.refusals
        total.unaccepted += t.unaccepted
        for name in ("retries", "replays_ok", "replays_bad", "timeouts", "gave_up", "cpu"):
            setattr(total, name, getattr(total, name) + getattr(t, name))
    return total, cpu_used(before, after, total.cpu)


# --- Phases -------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    seconds: float
    tally: Tally
    cpu: dict

    @property
    def rate(self) -> float:
        return len(self.tally.latencies) / self.seconds


def closed_phase(name: str, world: World, seconds: float, server_pid: int) -> Phase:
    """``CLIENTS`` clients, each sending its next report when the last one is accepted."""
    per_process = CLIENTS // CLIENT_PROCESSES
    start = time.time() + 2.0  # the client processes start before the clock does
    plans = [
        {
            "mode": "closed",
            "prefix": name,
            "cids": list(range(p * per_process, (p + 1) * per_process)),
            "start": start,
            "deadline": start + seconds,
            "points": world.points,
            "categories": world.categories,
        }
        for p in range(CLIENT_PROCESSES)
    ]
    tally, cpu = run_clients(plans, start, server_pid)
    return Phase(name, seconds, tally, cpu)


def open_phase(name: str, world: World, rate: float, seconds: float, server_pid: int) -> Phase:
    """Arrivals at ``rate`` whatever the answers, one attempt each; then the refused again."""
    start = time.time() + 2.0
    plans = [
        {
            "mode": "open",
            "prefix": name,
            "first_cid": p,
            "rate": rate / CLIENT_PROCESSES,
            "start": start + p / rate,  # the two processes' arrivals interleave
            "seconds": seconds,
            "points": world.points,
            "categories": world.categories,
        }
        for p in range(CLIENT_PROCESSES)
    ]
    tally, cpu = run_clients(plans, start, server_pid)
    return Phase(name, seconds, tally, cpu)


def send_again_phase(phase: Phase, server_pid: int) -> None:
    """The refused keys of ``phase`` again, until accepted (outside the phase's measurements)."""
    start = time.time() + 2.0
    plan = {"mode": "again", "pending": phase.tally.unaccepted, "start": start}
    later, _cpu = run_clients([plan], start, server_pid)
    phase.tally.accepted.update(later.accepted)
    phase.tally.gave_up += later.gave_up
    phase.tally.unaccepted = []


def count_rows(phases: list[Phase]) -> tuple[int, int, int, int]:
    """(rows, lost, duplicated, unacknowledged) among the benchmark's reports (not the demo's)."""
    import psycopg

    accepted: dict[str, int] = {}
    for phase in phases:
        accepted.update(phase.tally.accepted)
    ours = [MARKER + "%"]
    with psycopg.connect(DATABASE_URL) as conn:
        found = conn.execute(
            "SELECT idempotency_key, id, description FROM reports_report WHERE description LIKE %s",
            ours,
        ).fetchall()
    keys = Counter(key for key, _pk, _text in found)
    markers = Counter(text for _key, _pk, text in found)
    rows = {key: pk for key, pk, _text in found}
    lost = sum(1 for key, pk in accepted.items() if rows.get(key) != pk)
    duplicated = sum(1 for n in keys.values() if n > 1) + sum(1 for n in markers.values() if n > 1)
    unacknowledged = len(set(rows) - set(accepted))
    return len(found), lost, duplicated, unacknowledged


# --- Output -------------------------------------------------------------------------------------


def describe(phase: Phase) -> str:
    t = phase.tally
    lat = t.latencies
    statuses = ", ".join(f"{s or 'no answer'}: {n}" for s, n in sorted(t.statuses.items()))
    return (
        f"{phase.name}: {len(lat)} reports accepted in {phase.seconds:.1f} s = "
        f"{phase.rate:,.0f} reports/s; latency p50 {percentile(lat, 0.5):.1f} ms, "
        f"p95 {percentile(lat, 0.95):.1f} ms, p99 {percentile(lat, 0.99):.1f} ms, "
        f"max {max(lat, default=0):.1f} ms\n"
        f"  attempts by status: {statuses}; retries {t.retries}, timeouts {t.timeouts}, "
        f"gave up {t.gave_up}; double taps answered with the same report {t.replays_ok}, "
        f"otherwise {t.replays_bad}\n{describe_cpu(phase.cpu, len(lat))}"
    )


def describe_overload(phase: Phase, offered: float) -> str:
    t = phase.tally
    answers = sum(n for status, n in t.statuses.items() if status)
    refused = t.statuses[429] + t.statuses[503]
    return (
        f"  offered {offered:,.0f} reports/s for {phase.seconds:.0f} s (open loop): "
        f"{refused} of {answers} answers ({refused / max(answers, 1):.0%}) were 429/503, "
        f"in p50 {percentile(t.refusals, 0.5):.1f} ms, p95 {percentile(t.refusals, 0.95):.1f} ms, "
        f"max {max(t.refusals, default=0):.1f} ms; timeouts and broken connections "
        f"{t.statuses[0]}; server CPU {1000 * phase.cpu['server'] / max(answers, 1):.1f} ms "
        f"per answer"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", choices=list(SERVERS), default="granian")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="processes")
    parser.add_argument(
        "--threads", type=int, default=32, help="per process (granian, gunicorn-gthread)"
    )
    parser.add_argument("--no-overload", action="store_true", help="skip the overload phase")
    return parser.parse_args()


def prepare(scratch: Path, env: dict[str, str]) -> tuple[World, float]:
    """The database, the world in it, and the raw-insert rate (before the server starts)."""
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")})
    os.environ.update(
        SECRET_KEY=env["SECRET_KEY"], CONVIVE_DATA_DIR=str(scratch), LOG_LEVEL="WARNING"
    )
    recreate_database()
    import django

    django.setup()
    from django.db import connection

    world = load_world()
    version = connection.cursor().connection.info.server_version
    connection.close()
    print(
        f"database: PostgreSQL {version // 10000}.{version % 100} ({DB_NAME}), settings as shipped"
    )
    raw_tps, raw_rows = raw_insert_rate(scratch)
    print(f"raw insert (pgbench -c 16 -j 2, {RAW_SECONDS} s): {raw_rows} rows, {raw_tps:,.0f}/s")
    return world, raw_tps


def main() -> None:
    args = parse_args()
    for tool in ("pgbench", "redis-cli"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed (apt-get install postgresql-client redis-tools)")
    pong = subprocess.run(["redis-cli", "-u", REDIS_URL, "ping"], capture_output=True, text=True)
    if pong.stdout.strip() != "PONG":
        sys.exit(f"bench/intake.py needs Redis at {REDIS_URL}: {pong.stderr.strip()}")
    print(machine_summary())
    print(f"load average before the run: {os.getloadavg()[0]:.2f} (other work on the machine)")
    with tempfile.TemporaryDirectory(prefix="convive-intake-") as tmp:
        scratch = Path(tmp)
        env = server_environment(scratch)
        world, raw_tps = prepare(scratch, env)
        subprocess.run(["redis-cli", "-u", REDIS_URL, "flushdb"], capture_output=True, check=False)
        command = server_command(args.server, args.workers, args.threads)
        shedding = ", ".join(f"{k}={v}" for k, v in env.items() if k.startswith("OVERLOAD_"))
        print(f"server: {Path(command[0]).name} {' '.join(command[1:])}")
        print(f"load shedding: {shedding or 'OVERLOAD_* settings as shipped'}")
        server = start_server(
            command, env, scratch / "server.log", health_url=f"http://{HOST}:{PORT}/healthz"
        )
        try:
            phases = measure(world, server.pid, args)
        finally:
            stop_server(server)
            log = (scratch / "server.log").read_text(errors="replace").splitlines()
        errors = [line for line in log if "Traceback" in line or " ERROR " in line]
        print(f"server log: {len(log)} lines, {len(errors)} errors")
        for line in errors[:3]:
            print(f"  {line[:300]}")
        report_results(phases, raw_tps)


def measure(world: World, server_pid: int, args: argparse.Namespace) -> list[Phase]:
    warm = closed_phase("warmup", world, 3, server_pid)
    print(f"warm-up: {len(warm.tally.latencies)} reports")
    phase = closed_phase("sustained", world, SECONDS, server_pid)
    print(describe(phase))
    phases = [warm, phase]
    if not args.no_overload:
        offered = 2 * phase.rate
        overload = open_phase("overload", world, offered, OVERLOAD_SECONDS, server_pid)
        print(describe(overload))
        print(describe_overload(overload, offered))
        refused = len(overload.tally.unaccepted)
        send_again_phase(overload, server_pid)
        print(
            f"  then the {refused} refused or unanswered reports were sent again, same keys, "
            f"until accepted: gave up on {overload.tally.gave_up}"
        )
        phases.append(overload)
    return phases


def report_results(phases: list[Phase], raw_tps: float) -> None:
    total, lost, duplicated, unacknowledged = count_rows(phases)
    accepted = sum(len(p.tally.accepted) for p in phases)
    print(
        f"rows: {total} benchmark reports in reports_report for {accepted} accepted keys; "
        f"lost {lost}, duplicated {duplicated}; rows whose answer never reached the client "
        f"{unacknowledged}"
    )
    sustained = next(p for p in phases if p.name == "sustained")
    rate, p95 = sustained.rate, percentile(sustained.tally.latencies, 0.95)
    print(
        f"intake: {rate:,.0f} reports/s = {100 * rate / raw_tps:.1f}% of raw insert, "
        f"p95 {p95:.0f} ms, lost {lost}, duplicated {duplicated}"
    )


if __name__ == "__main__":
    main()
