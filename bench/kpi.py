"""Response-time figures over one year of 1.6 million incidents (``convive.analytics.queries``).

    .venv/bin/python bench/kpi.py            # KPI_INCIDENTS=200000 for a quicker run
    KPI_REUSE=1 .venv/bin/python bench/kpi.py   # time again without generating (same size)

Needs the local PostgreSQL (``KPI_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/convive_kpi``): the scratch database ``convive_kpi`` is
created if missing, migrated, and its incidents are replaced by generated ones, written by SQL
(``INSERT ... SELECT generate_series``, not the ORM): 16 localities, 12 types, 70 % phone calls
(received, answered 2 to 40 s later, created 20 to 170 s after answering), the rest from devices and
reports (created only); 95 % dispatched, then en route, on scene, cleared, 90 % closed; about
7 events per incident, spread over the 365 days before today, numbered and stored in time order
as a live system writes them. Each incident gets its first time
of each step (``Incident.first_*_at``) in the same ``INSERT``, as the actions keep them. Then, as a
platform administrator (the widest scope), times ``compute_kpis`` for the whole year, every
grouping (all, locality, shift, type, priority), ``KPI_RUNS`` times (3); the headline is the
median run. ``KPI_REUSE`` reuses the incidents only if there are as many and they have their
first times (a database generated before those existed is generated again).

The benchmark adds no index of its own: it times the migrated schema. Prints each run, the
per-incident step alone, the page's default 30 days, the figures.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from common import machine_summary  # noqa: E402

DATABASE_URL = os.environ.get("KPI_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/convive_kpi")
INCIDENTS = int(os.environ.get("KPI_INCIDENTS", "1600000"))
RUNS = int(os.environ.get("KPI_RUNS", "3"))


def setup() -> None:
    import psycopg

    admin_url = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DJANGO_SETTINGS_MODULE"] = "convive.settings"
    os.environ["DATABASE_URL"] = DATABASE_URL
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


REFERENCE_SQL = """
TRUNCATE incidents_incidentevent, incidents_incidentsource, incidents_incident_linked,
         incidents_incident RESTART IDENTITY CASCADE;
DELETE FROM territories_territory WHERE city_id IN
    (SELECT id FROM territories_city WHERE slug = 'kpi-bench');
DELETE FROM territories_layer WHERE city_id IN
    (SELECT id FROM territories_city WHERE slug = 'kpi-bench');
DELETE FROM territories_city WHERE slug = 'kpi-bench';
DELETE FROM incidents_incidenttype WHERE code LIKE 'kpi-%%';
INSERT INTO territories_city (slug, name, country_code, is_demo, index_token, created_at)
    VALUES ('kpi-bench', 'Ciudad KPI', 'MX', false, gen_random_uuid(), now());
INSERT INTO territories_layer (city_id, slug, name, kind, source)
    SELECT id, 'alcaldias', 'Alcaldías', 'locality', '' FROM territories_city
    WHERE slug = 'kpi-bench';
INSERT INTO territories_territory (city_id, layer_id, code, name, properties, min_lon, min_lat,
    max_lon, max_lat, centroid_lon, centroid_lat, area_km2, repaired, population_source,
    geometry_wkb)
    SELECT l.city_id, l.id, lpad(g::text, 3, '0'), 'Alcaldía ' || g, '{}', -99.3, 19.2, -99.0,
        19.5, -99.1, 19.4, 90.0, false, '', ''::bytea
    FROM territories_layer l, generate_series(1, 16) g
    WHERE l.slug = 'alcaldias' AND l.city_id = (SELECT id FROM territories_city
                                                WHERE slug = 'kpi-bench');
INSERT INTO incidents_incidenttype (code, name_es, name_en, default_priority, protocol,
    required_capabilities, iccs_code, active, "order")
    SELECT 'kpi-' || g, 'Tipo ' || g, 'Type ' || g, 1 + g %% 4, '[]', '[]', '', true, g
    FROM generate_series(1, 12) g;
"""

INCIDENTS_SQL = """
-- Numbered in time order: a live system writes incidents (and their pages) as they come.
CREATE TEMP TABLE gen AS
SELECT row_number() OVER (ORDER BY t0) AS n, r.*
FROM (
    SELECT now() - interval '365 days' * random() AS t0,
           random() < 0.7 AS is_call,
           (2 + random() * 38) * interval '1 second' AS answer,
           (20 + random() * 150) * interval '1 second' AS capture,
           (10 + random() * 140) * interval '1 second' AS handover,
           (15 + random() * 150) * interval '1 second' AS turnout,
           (120 + random() * 1200) * interval '1 second' AS travel,
           (300 + random() * 3600) * interval '1 second' AS on_scene,
           (60 + random() * 1800) * interval '1 second' AS closing,
           random() AS progress,
           1 + floor(random() * 16)::int AS locality,
           1 + floor(random() * 12)::int AS type
    FROM generate_series(1, %(incidents)s) g
) AS r;

-- Each step's time, NULL when the incident never got there: the events, and the incident's own
-- first time of each step (Incident.first_*_at, as the actions keep it).
CREATE TEMP TABLE steps AS
SELECT n, t0, locality, type, progress, received, answered, created,
       CASE WHEN field THEN created + handover END AS dispatched,
       CASE WHEN field THEN created + handover + turnout END AS en_route,
       CASE WHEN field THEN created + handover + turnout + travel END AS on_scene,
       CASE WHEN field THEN created + handover + turnout + travel + on_scene END AS cleared,
       CASE WHEN progress >= 0.10
            THEN created + handover + turnout + travel + on_scene + closing END AS closed
FROM (
    SELECT gen.*,
           progress >= 0.05 AS field,
           CASE WHEN is_call THEN t0 END AS received,
           CASE WHEN is_call THEN t0 + answer END AS answered,
           t0 + CASE WHEN is_call THEN answer + capture ELSE interval '0' END AS created
    FROM gen
) AS g;

INSERT INTO incidents_incident (id, city_id, type_id, priority, status, h3_cell, address,
    locality_id, summary, description, protocol_answers, created_at, updated_at, outcome,
    version, first_call_received_at, first_call_answered_at, first_created_at,
    first_dispatched_at, first_en_route_at, first_on_scene_at, first_cleared_at,
    first_closed_at)
SELECT steps.n, c.id, ty.id, ty.default_priority,
       CASE WHEN progress < 0.05 THEN 'new' WHEN progress < 0.10 THEN 'cleared'
            ELSE 'closed' END,
       '', '', te.id, '', '', '{}', created, t0, '', 1,
       received, answered, created, dispatched, en_route, on_scene, cleared, closed
FROM steps
JOIN territories_city c ON c.slug = 'kpi-bench'
JOIN territories_territory te ON te.city_id = c.id AND te.code = lpad(steps.locality::text, 3, '0')
JOIN incidents_incidenttype ty ON ty.code = 'kpi-' || steps.type
ORDER BY steps.n;

SELECT setval(pg_get_serial_sequence('incidents_incident', 'id'), %(incidents)s);

INSERT INTO incidents_incidentevent (incident_id, kind, at, body, data)
SELECT n, e.kind, e.at, '', '{}'
FROM steps
CROSS JOIN LATERAL (VALUES
    ('call_received', received),
    ('call_answered', answered),
    ('created', created),
    ('dispatched', dispatched),
    ('en_route', en_route),
    ('on_scene', on_scene),
    ('cleared', cleared),
    ('closed', closed)
) AS e(kind, at)
WHERE e.at IS NOT NULL
ORDER BY n;
"""


def generate() -> tuple[int, int, float]:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(REFERENCE_SQL, {})
        cursor.execute(INCIDENTS_SQL, {"incidents": INCIDENTS})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
        cursor.execute("ANALYZE incidents_incidentevent")
        cursor.execute("SELECT count(*) FROM incidents_incident")
        incidents = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM incidents_incidentevent")
        events = cursor.fetchone()[0]
    return incidents, events, time.perf_counter() - started


def _bench_rows() -> int:
    """How many incidents there are, or -1 if some lack their first times (no ``created``)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE first_created_at IS NULL) "
            "FROM incidents_incident"
        )
        rows, unstamped = cursor.fetchone()
        return -1 if unstamped else rows


def bench_user():
    from convive.accounts.models import User
    from convive.accounts.roles import Role
    from convive.institutions.models import Membership

    user, created = User.objects.get_or_create(username="kpi-bench-admin")
    if created:
        Membership.objects.create(user=user, role=Role.PLATFORM_ADMIN, institution=None)
    return user


def inner_seconds(user, filters) -> float:
    """The first half of the work: one row per incident with its first times (counted, not
    read)."""
    from django.db import connection

    from convive.analytics.queries import incident_timestamps

    inner, params = incident_timestamps(user, filters).query.sql_with_params()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({inner}) AS per", params)  # noqa: S608
        cursor.fetchone()
    return time.perf_counter() - started


def main() -> None:
    setup()
    from django.utils import timezone

    from convive.analytics.queries import NORMS, KpiFilters, compute_kpis

    print(machine_summary())
    print(f"load average before: {os.getloadavg()}")
    if os.environ.get("KPI_REUSE") and _bench_rows() == INCIDENTS:
        print(f"reusing the {INCIDENTS:,} incidents already generated (KPI_REUSE)")
    else:
        incidents, events, seconds = generate()
        print(f"generated {incidents:,} incidents and {events:,} events in {seconds:.1f} s")
    user = bench_user()
    today = timezone.localdate()
    filters = KpiFilters(start=today - timedelta(days=366), end=today + timedelta(days=1))
    timings = []
    report = None
    for run in range(RUNS):
        started = time.perf_counter()
        report = compute_kpis(user, filters)
        timings.append(time.perf_counter() - started)
        print(f"run {run + 1}: {timings[-1]:.2f} s")
    overall = report.overall
    print(
        "per-incident step alone (first time of each step, no percentiles): "
        f"{inner_seconds(user, filters):.2f} s"
    )
    print(f"groups: {', '.join(f'{k} {len(v)}' for k, v in report.groups.items())}")
    for code, figures in overall.intervals.items():
        print(
            f"  {code:<10} n={figures.count:>9,} p50={figures.p50:8.1f} s p90={figures.p90:8.1f} s"
        )
    for norm in NORMS:
        print(f"  {norm.code:<12} {overall.compliance(norm.code):5.1f} %")
    month = KpiFilters(start=today - timedelta(days=29), end=today + timedelta(days=1))
    started = time.perf_counter()
    recent = compute_kpis(user, month).overall.count
    seconds = time.perf_counter() - started
    print(f"the page's default (last 30 days): {recent:,} incidents in {seconds:.2f} s")
    print(f"load average after: {os.getloadavg()}")
    median = statistics.median(timings)
    print(f"kpi: {overall.count} incidents in {median:.2f} s")


if __name__ == "__main__":
    main()
