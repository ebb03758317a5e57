"""The default catalogue: its content, its installer (idempotent, never deleting), its command,
and the admin pages where administrators change it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from conftest import login
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.reports.answers import check_answers
from convive.reports.catalogue import CATALOGUE, do_install_catalogue
from convive.reports.iccs import ICCS
from convive.reports.models import Category, Question
from convive.reports.tests.factories import CategoryFactory
from convive.reports.tests.test_inbox import make_report

pytestmark = pytest.mark.usefixtures("english")  # messages are compared in English

SPECS = {spec.code: spec for spec in CATALOGUE}


def install():
    with transaction.atomic():
        return do_install_catalogue(None)


# --- What the catalogue says ----------------------------------------------------------------


def test_codes_are_unique_slugs():
    codes = [spec.code for spec in CATALOGUE]
    assert len(codes) == len(set(codes))
    assert all(code.replace("-", "").isalnum() and code.islower() for code in codes)


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.code)
def test_every_category_speaks_spanish_and_english(spec):
    for pair in (spec.name, spec.description, spec.group):
        assert all(text.strip() for text in pair), spec.code
    assert spec.keywords
    if spec.urgent or spec.notice != ("", ""):
        assert all(spec.notice), f"{spec.code}: a notice in both languages"
    for question in spec.questions:
        assert all((question.label_es, question.label_en)), question.code
        for value in question.values:
            assert all((value["key"], value["name_es"], value["name_en"])), question.code


@pytest.mark.parametrize(
    "spec", [s for s in CATALOGUE if s.kind == Category.Kind.SECURITY], ids=lambda s: s.code
)
def test_security_categories_carry_a_real_iccs_code(spec):
    if spec.code == "sos":  # an emergency of any kind: the command centre classifies it
        assert spec.iccs_code == ""
        return
    assert spec.iccs_code in ICCS, spec.code


@pytest.mark.parametrize(
    ("code", "iccs", "label"),
    [
        ("robo-personas", "04011", "Robbery from the person"),
        ("hurto", "05022", "Theft of personal property"),
        ("hurto-vehiculo", "05021", "Theft of a motorized vehicle or parts thereof"),
        ("hurto-residencia", "05012", "Burglary of private residential premises"),
        ("lesiones", "02011", "Assault"),
        ("amenazas", "02012", "Threat"),
        ("violencia-intrafamiliar", "02011", "Assault"),
        ("acoso-sexual", "030122", "Non-physical sexual assault"),
        ("extorsion", "02051", "Extortion or blackmail"),
        (
            "venta-drogas",
            "060121",
            "Unlawful trafficking of controlled drugs not for personal consumption",
        ),
        ("danos-bienes", "0504", "Property damage"),
        ("armas", "09011", "Possession or use of weapons and explosives"),
    ],
)
def test_the_mapping_to_iccs(code, iccs, label):
    assert SPECS[code].iccs_code == iccs
    assert ICCS[iccs][2] == label


def test_coexistence_problems_have_no_crime_code():
    coexistence = [s for s in CATALOGUE if s.kind == Category.Kind.COEXISTENCE]
    assert len(coexistence) >= 10
    assert all(s.iccs_code == "" for s in coexistence)


def test_nothing_that_could_expose_a_person_is_published():
    for spec in CATALOGUE:
        against_people = spec.iccs_code[:2] in {"01", "02", "03"}
        if against_people or spec.urgent:
            assert spec.publication == Category.Publication.NONE, spec.code
    assert SPECS["venta-drogas"].publication == Category.Publication.COARSE
    for code in ("alumbrado", "lote-abandonado", "basuras"):
        assert SPECS[code].publication == Category.Publication.FULL


def test_emergencies_come_first_and_tell_people_to_call():
    assert [s.code for s in CATALOGUE[:2]] == ["sos", "violencia-en-curso"]
    for spec in CATALOGUE[:2]:
        assert spec.urgent
        assert "123" in spec.notice[0]
        assert "123" in spec.notice[1]


# --- Installing it --------------------------------------------------------------------------


def test_install_creates_everything_then_changes_nothing(db):
    first = install()
    assert (first.created, first.updated, first.unchanged) == (len(CATALOGUE), 0, 0)
    assert first.questions_created == sum(len(s.questions) for s in CATALOGUE)
    questions = Question.objects.count()

    again = install()

    assert (again.created, again.updated, again.unchanged) == (0, 0, len(CATALOGUE))
    assert (again.questions_created, again.questions_updated) == (0, 0)
    assert Category.objects.count() == len(CATALOGUE)
    assert Question.objects.count() == questions


def test_install_updates_by_code_and_never_deletes(db):
    install()
    lighting = Category.objects.get(code="alumbrado")
    lighting.name_es = "Luz"
    lighting.active = False  # an administrator turned it off: that stays
    lighting.save()
    Question.objects.filter(category=lighting).update(label_es="Poste")
    own = CategoryFactory(code="propia", name_es="Categoría propia de la ciudad")
    extra = Question.objects.create(
        category=lighting, code="extra", datatype="string", label_es="Otra pregunta"
    )

    counts = install()

    assert (counts.updated, counts.questions_updated) == (1, 1)
    lighting.refresh_from_db()
    assert (lighting.name_es, lighting.active) == ("Alumbrado público dañado", False)
    assert lighting.questions.get(code="numero-poste").label_es == "Número del poste"
    assert Category.objects.filter(pk=own.pk).exists()
    assert Question.objects.filter(pk=extra.pk).exists()


def test_installed_questions_check_answers(db):
    install()
    noise = Category.objects.get(code="ruido")
    assert check_answers(noise, {"horario": "madrugada", "fuente": "vivienda"}) == {
        "horario": "madrugada",
        "fuente": "vivienda",
    }
    robbery = Category.objects.get(code="robo-personas")
    answers = check_answers(robbery, {"cuando": "2026-03-01T21:30:00-05:00", "armas": "blanca"})
    assert answers["armas"] == "blanca"


def test_the_command_reports_what_it_did(db):
    out = io.StringIO()
    call_command("install_catalogue", stdout=out)
    assert f"{len(CATALOGUE)} categories added" in out.getvalue()
    out = io.StringIO()
    call_command("install_catalogue", stdout=out)
    assert f"{len(CATALOGUE)} unchanged" in out.getvalue()


# --- The admin site -------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, platform_admin):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override(translation.get_language()):  # the request's language stays there
        yield login(client, platform_admin)


def test_administrators_edit_categories_with_their_questions(admin_client, catalogue):
    url = reverse("admin:reports_category_change", args=[catalogue.ruido.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "At what time?" in page.content.decode() or "¿A qué hora?" in page.content.decode()
    data = {
        "code": "ruido",
        "kind": "coexistence",
        "active": "on",
        "order": "5",
        "publication": "coarse",
        "name_es": "Ruido fuerte",
        "name_en": "Loud noise",
        "iccs_code": "9999",
        "questions-TOTAL_FORMS": "0",
        "questions-INITIAL_FORMS": "0",
    }
    refused = admin_client.post(url, data)
    assert refused.status_code == 200
    assert "is not an ICCS code" in refused.content.decode()
    data["iccs_code"] = ""
    assert admin_client.post(url, data).status_code == 302
    catalogue.ruido.refresh_from_db()
    assert catalogue.ruido.name_es == "Ruido fuerte"
    assert AuditEvent.objects.filter(tag=AuditTag.ADMIN_OBJECT_CHANGED).exists()


def test_a_routing_rule_stays_inside_its_city(admin_client, catalogue, world):
    from convive.institutions.tests.factories import InstitutionFactory

    elsewhere = InstitutionFactory(slug="otra", name="Policía de otra ciudad")
    data = {
        "city": world.city.pk,
        "category": catalogue.robo.pk,
        "territory": world.suba.pk,
        "institution": elsewhere.pk,
        "priority": "10",
    }
    response = admin_client.post(reverse("admin:reports_routingrule_add"), data)
    assert response.status_code == 200
    assert "The institution is not in this city." in response.content.decode()
    data["institution"] = world.police.pk
    assert admin_client.post(reverse("admin:reports_routingrule_add"), data).status_code == 302


def test_reports_in_the_admin_are_read_only_and_show_no_personal_data(
    admin_client, catalogue, citizen
):
    report = make_report(
        "robo", reporter=citizen, contact_email="lucia@example.org", description="Secreto"
    )
    assert admin_client.get(reverse("admin:reports_report_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:reports_report_change", args=[report.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "lucia@example.org" not in html
    assert "Secreto" not in html
    assert reverse("inbox:detail", args=[report.pk]) in html
    assert admin_client.get(reverse("admin:reports_report_add")).status_code == 403
    assert admin_client.post(
        reverse("admin:reports_report_delete", args=[report.pk])
    ).status_code == (403)
