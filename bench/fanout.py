"""Console fan-out: commit of an incident change → the message on every connected console.

    .venv/bin/python bench/fanout.py                       # both scenarios, 20 s each
    FANOUT_SECONDS=5 .venv/bin/python bench/fanout.py      # a quick check
    FANOUT_CONSOLES=100 FANOUT_RATE=5 FANOUT_CONSOLES_2=200 FANOUT_RATE_2=1 .venv/bin/python ...

Needs PostgreSQL on 127.0.0.1:5432 (user ``postgres``, no password) and Redis on 127.0.0.1:6379
(database 2 is flushed: the Redis channel layer, ``channels_redis``). Steps:

1. Recreate the database ``convive_fanout``, migrate it, write a city, a security secretariat, a
   call-taker with a confirmed TOTP device, and ``FANOUT_INCIDENTS`` (50) open incidents.
2. Log the call-taker in without a browser: a database-backed session is written directly with
   Django's login keys (``_auth_user_id``, ``_auth_user_backend``, ``_auth_user_hash``) and
   django_otp's ``DEVICE_ID_SESSION_KEY`` (the confirmed device's ``persistent_id``), which is
   what the two-factor page leaves in a session. Every console sends that session's cookie.
3. Start the real ASGI server as docs/deploy.md runs it for websockets (Daphne, one process,
   production settings: ``DEBUG=false``, Redis channel layer) on 127.0.0.1:8767;
   ``FANOUT_SERVER=granian`` runs Granian's ASGI interface (one worker) instead, to compare.
4. For each scenario: open C websocket clients to ``/ws/console/`` (asyncio, a minimal RFC 6455
   client written here: no websocket package is installed), 50 handshakes at a time, all in this
   process. Then a separate writer process makes R changes per second (open loop, for
   ``FANOUT_SECONDS``) through the actions, each in its own durable transaction as a view would
   (``access_incident_by_id(..., for_update=True)`` then ``check_change_priority``), and notes
   the wall-clock time of each commit (an on-commit hook registered first, so it runs before the
   publishing hook). Each message is matched to its commit by (incident, version); latency is
   commit → message read off the socket, for every (change, console) pair.
5. ``lost`` = (change, console) pairs never received within ``FANOUT_DRAIN`` (3) s after the
   last commit; ``duplicated`` = pairs received more than once.

The last line is the headline of the first scenario (the second one's is printed just before):
``fanout: <C> consoles at <R>/s, p95 <P> ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from common import ROOT, machine_summary, percentile, start_server, stop_server

DB_NAME = "convive_fanout"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/2"
HOST, PORT = "127.0.0.1", 8767
PATH = "/ws/console/"
SECONDS = float(os.environ.get("FANOUT_SECONDS", "20"))
SCENARIOS = [
    (int(os.environ.get("FANOUT_CONSOLES", "300")), float(os.environ.get("FANOUT_RATE", "10"))),
    (int(os.environ.get("FANOUT_CONSOLES_2", "1000")), float(os.environ.get("FANOUT_RATE_2", "1"))),
]
INCIDENTS = int(os.environ.get("FANOUT_INCIDENTS", "50"))
DRAIN = float(os.environ.get("FANOUT_DRAIN", "3"))
HANDSHAKES_AT_ONCE = 50
GOALS = {0: 250.0, 1: 500.0}  # p95 goals of issue 5, by scenario


# --- Environment and data -----------------------------------------------------------------------


def environment(scratch: Path) -> dict[str, str]:
    """Production settings, as docs/deploy.md gives them, on loopback."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="convive.settings",
        DEBUG="false",
        SECRET_KEY="bench-fanout-" + "x" * 50,
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=DATABASE_URL,
        DB_CONN_MAX_AGE="600",
        REDIS_URL=REDIS_URL,
        SMS_BACKEND="convive.integrations.sms.console.NullSmsBackend",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        CONVIVE_DATA_DIR=str(scratch),
        MEDIA_ROOT=str(scratch / "media"),
        STATIC_ROOT=str(scratch / "static"),
        PYTHONPATH=str(ROOT),
    )
    return env


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def recreate_database() -> None:
    import psycopg

    try:
        conn = psycopg.connect(ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        sys.exit(f"bench/fanout.py needs PostgreSQL at {ADMIN_URL}: {exc}")
    with conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def prepare() -> str:
    """Migrate, write the city, the call-taker and the incidents; the session key (step 2)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from convive.accounts.roles import Role
    from convive.accounts.tests.factories import UserFactory
    from convive.incidents.tests.factories import IncidentFactory, IncidentTypeFactory
    from convive.institutions.models import Institution
    from convive.institutions.tests.factories import InstitutionFactory, MembershipFactory
    from convive.territories.tests.factories import CityFactory

    call_command("migrate", verbosity=0)
    city = CityFactory(slug="fanout", name="Fan-out")
    secretariat = InstitutionFactory(
        city=city,
        slug="secretaria",
        kind=Institution.Kind.SECURITY_SECRETARIAT,
        covers_whole_city=True,
    )
    user = UserFactory(username="operadora")
    MembershipFactory(user=user, institution=secretariat, role=Role.CALL_TAKER)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    kind = IncidentTypeFactory(code="rina", name_es="Riña", name_en="Fight")
    IncidentFactory.create_batch(
        INCIDENTS, city=city, type=kind, institution=secretariat, priority=3
    )
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    return session.session_key


# --- The server ---------------------------------------------------------------------------------

SERVER = os.environ.get("FANOUT_SERVER", "daphne")


def server_command() -> list[str]:
    """Daphne, as docs/deploy.md runs the websockets; or Granian's ASGI interface to compare."""
    bin_dir = Path(sys.executable).parent
    if SERVER == "granian":
        return [
            str(bin_dir / "granian"),
            "--interface",
            "asginl",  # ASGI without lifespan: Channels' router has none
            "--host",
            HOST,
            "--port",
            str(PORT),
            "--workers",
            "1",
            "--no-access-log",
        ]
    if SERVER != "daphne":
        sys.exit(f"FANOUT_SERVER must be daphne or granian, not {SERVER!r}")
    return [str(bin_dir / "daphne"), "--bind", HOST, "--port", str(PORT), "--verbosity", "0"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its live children (Granian serves from a
    worker process under the one started)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        total += sum(cpu_seconds(int(child)) for child in children)
    return total


# --- The writer (a separate process) ------------------------------------------------------------


def writer(rate: float, seconds: float) -> None:
    """Wait for "go" on stdin, make the changes, print their commit times as JSON."""
    from django.db import transaction

    from convive.accounts.models import User
    from convive.incidents.access import access_incident_by_id
    from convive.incidents.actions import check_change_priority
    from convive.incidents.models import Incident

    user = User.objects.get(username="operadora")
    ids = list(Incident.objects.order_by("pk").values_list("pk", flat=True))
    access_incident_by_id(user, ids[0])  # warm up: the memberships, the connection
    print("ready", flush=True)
    sys.stdin.readline()
    commits: list[tuple[int, int, float]] = []
    late = 0
    count = int(rate * seconds)
    start = time.monotonic() + 0.05
    for n in range(count):
        due = start + n / rate
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        elif wait < -0.05:
            late += 1
        stamp: list[float] = []
        with transaction.atomic(durable=True):
            transaction.on_commit(lambda stamp=stamp: stamp.append(time.time()))  # runs first
            incident = access_incident_by_id(user, ids[n % len(ids)], for_update=True)
            check_change_priority(
                user,
                incident,
                priority=2 if incident.priority != 2 else 3,
                reason="Carga de prueba",
                expected_version=incident.version,
            )
        commits.append((incident.pk, incident.version, stamp[0]))
    print(json.dumps({"commits": commits, "late": late}), flush=True)


# --- The consoles -------------------------------------------------------------------------------


class RefusedError(Exception):
    pass


@dataclass
class Console:
    """One websocket client: what it received, as (incident_id, version, wall time)."""

    cookie: str
    received: list[tuple[int, int, float]] = field(default_factory=list)
    other: int = 0
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    task: asyncio.Task | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, PORT, limit=2**20)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {PATH} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://{HOST}:{PORT}\r\nCookie: sessionid={self.cookie}\r\n\r\n"
        )
        self.writer.write(request.encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RefusedError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
        self.task = asyncio.create_task(self.listen())

    async def frame(self) -> tuple[int, bytes]:
        assert self.reader is not None
        opcode, payload = 0, b""
        while True:
            first, second = await self.reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(await self.reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await self.reader.readexactly(8), "big")
            if second & 0x80:
                await self.reader.readexactly(4)  # a server does not mask; skip if it did
            payload += await self.reader.readexactly(length)
            opcode = opcode or first & 0x0F
            if first & 0x80:  # FIN
                return opcode, payload

    def send(self, opcode: int, payload: bytes = b"") -> None:
        assert self.writer is not None
        assert len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    async def listen(self) -> None:
        try:
            while True:
                opcode, payload = await self.frame()
                now = time.time()
                if opcode == 0x1:
                    message = json.loads(payload)
                    if message["type"] == "incident.changed":
                        event = message["event"]
                        self.received.append((event["incident_id"], event["version"], now))
                    else:
                        self.other += 1
                elif opcode == 0x9:
                    self.send(0xA, payload)
                elif opcode == 0x8:
                    code = int.from_bytes(payload[:2], "big") if payload else 1005
                    raise RefusedError(f"closed by the server with {code}")
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    async def close(self) -> None:
        if self.writer is not None and not self.writer.is_closing():
            try:
                self.send(0x8, (1000).to_bytes(2, "big"))
                await self.writer.drain()
            except ConnectionError:
                pass
            self.writer.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, RefusedError):
                await self.task


async def open_consoles(count: int, cookie: str) -> list[Console]:
    consoles = [Console(cookie) for _ in range(count)]
    gate = asyncio.Semaphore(HANDSHAKES_AT_ONCE)

    async def one(console: Console) -> None:
        async with gate:
            await console.open()

    await asyncio.gather(*(one(c) for c in consoles))
    await asyncio.sleep(1.0)  # a refused console is closed right after its handshake
    refused = [c for c in consoles if c.task is not None and c.task.done()]
    if refused:
        error = refused[0].task.exception()
        sys.exit(f"{len(refused)} consoles were refused or closed: {error}")
    return consoles


@dataclass
class Outcome:
    consoles: int
    rate: float
    changes: int
    late: int
    latencies: list[float]
    lost: int
    duplicated: int
    connect_seconds: float
    server_cpu: float
    clients_cpu: float
    load: float


async def scenario(
    consoles_count: int, rate: float, cookie: str, env: dict[str, str], server_pid: int
) -> Outcome:
    start = time.monotonic()
    consoles = await open_consoles(consoles_count, cookie)
    connect_seconds = time.monotonic() - start
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).resolve()),
        "--writer",
        "--rate",
        str(rate),
        "--seconds",
        str(SECONDS),
        env=env,
        cwd=str(ROOT),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=2**24,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    ready = await process.stdout.readline()
    if ready.strip() != b"ready":
        sys.exit(f"the writer did not start: {ready!r}")
    cpu_before = cpu_seconds(server_pid)
    clients_before = time.process_time()
    process.stdin.write(b"go\n")
    await process.stdin.drain()
    result = json.loads(await process.stdout.readline())
    await process.wait()
    await asyncio.sleep(DRAIN)
    server_cpu = cpu_seconds(server_pid) - cpu_before
    clients_cpu = time.process_time() - clients_before
    for console in consoles:
        await console.close()
    committed = {(i, v): t for i, v, t in result["commits"]}
    latencies, lost, duplicated = [], 0, 0
    for console in consoles:
        seen = Counter((i, v) for i, v, _t in console.received)
        duplicated += sum(n - 1 for n in seen.values() if n > 1)
        lost += sum(1 for key in committed if key not in seen)
        latencies += [
            (t - committed[(i, v)]) * 1000 for i, v, t in console.received if (i, v) in committed
        ]
    return Outcome(
        consoles_count,
        rate,
        len(committed),
        result["late"],
        latencies,
        lost,
        duplicated,
        connect_seconds,
        server_cpu,
        clients_cpu,
        os.getloadavg()[0],
    )


def headline(outcome: Outcome) -> str:
    p95 = percentile(outcome.latencies, 0.95)
    return f"fanout: {outcome.consoles} consoles at {outcome.rate:g}/s, p95 {p95:.0f} ms"


def report(index: int, outcome: Outcome) -> None:
    lat = outcome.latencies
    figures = ", ".join(
        f"{name} {percentile(lat, q):.1f}" for name, q in (("p50", 0.5), ("p95", 0.95))
    )
    deliveries = outcome.changes * outcome.consoles
    goal = GOALS.get(index)
    verdict = ""
    if goal is not None:
        verdict = " (goal ≤ {:.0f} ms: {})".format(
            goal, "met" if percentile(lat, 0.95) <= goal else "NOT met"
        )
    print(
        f"scenario {index + 1}: {outcome.consoles} consoles, {outcome.rate:g} changes/s for "
        f"{SECONDS:g} s = {outcome.changes} changes, {deliveries} deliveries expected"
    )
    print(f"  connect: {outcome.connect_seconds:.1f} s for {outcome.consoles} consoles")
    print(
        f"  commit → console: {figures}, p99 {percentile(lat, 0.99):.1f}, "
        f"max {max(lat, default=0.0):.1f} ms{verdict}"
    )
    print(
        f"  received {len(lat)}, lost {outcome.lost}, duplicated {outcome.duplicated}; "
        f"writer late (>50 ms behind schedule) {outcome.late} times; "
        f"CPU over {SECONDS + DRAIN:g} s: server {outcome.server_cpu:.1f} s, "
        f"clients {outcome.clients_cpu:.1f} s; load average after {outcome.load:.2f}"
    )


async def measure(cookie: str, env: dict[str, str], server_pid: int) -> list[Outcome]:
    outcomes = []
    for consoles, rate in SCENARIOS:
        outcomes.append(await scenario(consoles, rate, cookie, env, server_pid))
        await asyncio.sleep(1.0)
    return outcomes


def raise_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        sys.exit(f"the file-descriptor limit is {soft}; {needed} are needed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        setup_django({})
        writer(args.rate, args.seconds)
        return
    pong = subprocess.run(["redis-cli", "-u", REDIS_URL, "ping"], capture_output=True, text=True)
    if pong.stdout.strip() != "PONG":
        sys.exit(f"bench/fanout.py needs Redis at {REDIS_URL}: {pong.stderr.strip()}")
    # Each console is a socket here and one in the server (which inherits the limit).
    raise_file_limit(2 * max(c for c, _r in SCENARIOS) + 256)
    print(machine_summary())
    load = os.getloadavg()
    print(f"load average before the run: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="convive-fanout-") as tmp:
        scratch = Path(tmp)
        env = environment(scratch)
        recreate_database()
        setup_django(env)
        cookie = prepare()
        from django.db import connections

        connections.close_all()
        subprocess.run(["redis-cli", "-u", REDIS_URL, "flushdb"], capture_output=True, check=False)
        print(f"server: {SERVER} (1 process) on {HOST}:{PORT}, channel layer channels_redis")
        command = server_command()
        server = start_server(
            [*command, "convive.asgi:application"],
            env,
            scratch / "server.log",
            health_url=f"http://{HOST}:{PORT}/healthz",
        )
        try:
            outcomes = asyncio.run(measure(cookie, env, server.pid))
        except SystemExit:
            print((scratch / "server.log").read_text(errors="replace")[-6000:])
            raise
        finally:
            stop_server(server)
            log = (scratch / "server.log").read_text(errors="replace").splitlines()
        errors = [n for n, line in enumerate(log) if "Traceback" in line or "ERROR" in line]
        print(f"server log: {len(log)} lines, {len(errors)} errors")
        for line in log[errors[0] : errors[0] + 40] if errors else []:
            print(f"  {line[:300]}")
    for index, outcome in enumerate(outcomes):
        report(index, outcome)
    for outcome in reversed(outcomes):
        print(headline(outcome))


if __name__ == "__main__":
    main()
