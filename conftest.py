"""Fixtures shared by every test: a small city, one persona per role, and logins.

``world`` is a city with two localities (Kennedy, Suba) and neighbourhoods inside Kennedy; the
supervisor's membership is limited to Kennedy. Personas log in with ``login(client, user)``,
which also passes the second factor for staff.
"""

import os

import pytest
from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from convive.accounts.permissions import needs_two_factor
from convive.accounts.roles import Role
from convive.accounts.tests.factories import UserFactory
from convive.core.audit import record_audit_event
from convive.core.tags import AuditTag
from convive.institutions.models import Institution
from convive.institutions.tests.factories import InstitutionFactory, MembershipFactory
from convive.justice.tests.factories import JusticeServiceFactory
from convive.territories.models import Layer
from convive.territories.tests.factories import CityFactory, LayerFactory, TerritoryFactory

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def pytest_collection_modifyitems(items):
    """Mark tests that use the ``postgres`` or ``redis_url`` fixture; run browser tests last.

    Playwright's sync API keeps an event loop in the main thread for the rest of the session,
    so tests that drive asyncio themselves (Channels) must run before the browser starts.
    """
    items.sort(key=lambda item: "tests/browser/" in str(item.fspath))
    for item in items:
        for fixture, marker in (
            ("postgres", pytest.mark.postgres),
            ("redis_url", pytest.mark.redis),
        ):
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, the test database is a file in WAL mode, as the embedded default runs, instead
    of Django's shared in-memory one: there, a reader in the live server's thread meets a table
    lock ("database table is locked") whenever another thread is writing, which never happens
    with the real file."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        name = tmp_path_factory.mktemp("database") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(name)


def skip_or_fail(reason: str) -> None:
    """Skip a test whose service is missing, except under CI, where it must fail."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI is set: services must be available)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_password_hashing(request, settings):
    """Argon2 is deliberately slow; tests use MD5 unless they are about hashing (``argon2``)."""
    if "argon2" not in request.keywords:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    """A request's language must not leak into the next test (LocaleMiddleware activates it)."""
    from django.conf import settings as django_settings
    from django.utils import translation

    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _quiet_outside_systems(settings, tmp_path):
    """No SMS leaves a test, and uploads land in a scratch folder."""
    from convive.integrations.sms.console import NullSmsBackend

    settings.SMS_BACKEND = "convive.integrations.sms.console.NullSmsBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    NullSmsBackend.sent = []


@pytest.fixture
def postgres(settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://...")
    return connection


@pytest.fixture
def redis_url():
    url = os.environ.get("REDIS_URL", "")
    if not url:
        skip_or_fail("needs Redis: set REDIS_URL=redis://...")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis at {url} does not answer: {exc}")
    return url


class World:
    """The objects behind the personas, for tests that need to name them."""


@pytest.fixture
def world(db):
    w = World()
    w.city = CityFactory(slug="testopolis", name="Testópolis")
    w.localities = LayerFactory(city=w.city, slug="locality", name="Localidades")
    w.neighbourhoods = LayerFactory(
        city=w.city,
        slug="neighbourhood",
        name="Barrios",
        kind=Layer.Kind.NEIGHBOURHOOD,
        parent_layer=w.localities,
    )
    w.kennedy = TerritoryFactory(
        layer=w.localities, code="08", name="Kennedy", bounds=(-74.20, 4.58, -74.10, 4.66)
    )
    w.suba = TerritoryFactory(
        layer=w.localities, code="11", name="Suba", bounds=(-74.10, 4.66, -74.00, 4.76)
    )
    w.timiza = TerritoryFactory(
        layer=w.neighbourhoods,
        code="0801",
        name="Timiza",
        parent=w.kennedy,
        bounds=(-74.20, 4.58, -74.15, 4.62),
    )
    w.secretariat = InstitutionFactory(
        city=w.city,
        slug="secretaria",
        name="Secretaría de Seguridad",
        kind=Institution.Kind.SECURITY_SECRETARIAT,
        covers_whole_city=True,
    )
    w.police = InstitutionFactory(
        city=w.city, slug="policia", name="Policía Metropolitana", kind=Institution.Kind.POLICE
    )
    w.police.coverage.set([w.kennedy, w.suba])
    w.partner = InstitutionFactory(
        city=w.city, slug="banco", name="Banco Andino", kind=Institution.Kind.CAMERA_PARTNER
    )
    w.partner.coverage.set([w.suba])
    w.justice_house = JusticeServiceFactory(
        city=w.city, territory=w.kennedy, name="Casa de Justicia de Kennedy", lon=-74.15, lat=4.60
    )
    # One entry in the audit log, so that its pages have something to show.
    with transaction.atomic():
        record_audit_event(None, AuditTag.TERRITORY_LAYER_IMPORTED, subject=w.localities)
    return w


def _member(world: World, username: str, role: Role, institution, territories=None):
    user = UserFactory(username=username)
    MembershipFactory(user=user, institution=institution, role=role, territories=territories)
    return user


@pytest.fixture
def citizen(db):
    return UserFactory(username="ciudadana")


@pytest.fixture
def call_taker(world):
    return _member(world, "operadora", Role.CALL_TAKER, world.secretariat)


@pytest.fixture
def dispatcher(world):
    return _member(world, "despachador", Role.DISPATCHER, world.secretariat)


@pytest.fixture
def supervisor(world):
    return _member(world, "supervisora", Role.SUPERVISOR, world.police, [world.kennedy])


@pytest.fixture
def field_unit(world):
    return _member(world, "patrulla", Role.FIELD_UNIT, world.police, [world.kennedy])


@pytest.fixture
def analyst(world):
    return _member(world, "analista", Role.ANALYST, world.secretariat)


@pytest.fixture
def institution_admin(world):
    return _member(world, "admin_policia", Role.INSTITUTION_ADMIN, world.police)


@pytest.fixture
def camera_partner(world):
    return _member(world, "socio_camaras", Role.CAMERA_PARTNER, world.partner)


@pytest.fixture
def platform_admin(world):
    return _member(world, "admin_plataforma", Role.PLATFORM_ADMIN, None)


PERSONAS = {
    Role.CITIZEN: "citizen",
    Role.CALL_TAKER: "call_taker",
    Role.DISPATCHER: "dispatcher",
    Role.SUPERVISOR: "supervisor",
    Role.FIELD_UNIT: "field_unit",
    Role.ANALYST: "analyst",
    Role.INSTITUTION_ADMIN: "institution_admin",
    Role.CAMERA_PARTNER: "camera_partner",
    Role.PLATFORM_ADMIN: "platform_admin",
}


@pytest.fixture
def persona(request):
    """``persona(Role.X)`` gives the user of that role (used by role-parametrised tests)."""

    def get(role: Role):
        return request.getfixturevalue(PERSONAS[role])

    return get


def confirmed_device(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def login(client, user):
    """Log ``user`` in on the test client, second factor included for staff."""
    client.force_login(user, backend=MODEL_BACKEND)
    if needs_two_factor(user):
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = confirmed_device(user).persistent_id
        session.save()
    return client


@pytest.fixture
def english(settings):
    """For tests that compare messages with their English msgids (the site default is Spanish):
    English for the test's own code and, through ``LANGUAGE_CODE``, for the requests it makes."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
