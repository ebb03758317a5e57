"""The default incident types, their installer (idempotent) and the checks on an edited type."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils import translation

from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.incidents.actions import check_install_incident_types
from convive.incidents.catalogue import INCIDENT_TYPES
from convive.incidents.models import Capability, IncidentType, Priority
from convive.incidents.tests.factories import IncidentTypeFactory
from convive.reports.iccs import ICCS


def test_the_catalogue_is_complete_and_well_formed():
    codes = [spec.code for spec in INCIDENT_TYPES]
    assert len(codes) == len(set(codes)) >= 20
    for spec in INCIDENT_TYPES:
        assert spec.name_es, spec.code
        assert spec.name_en, spec.code
        assert spec.priority in Priority.values, spec.code
        assert 2 <= len(spec.questions) <= 4, spec.code
        assert len({q.code for q in spec.questions}) == len(spec.questions), spec.code
        assert all(q.question_es and q.question_en for q in spec.questions), spec.code
        assert spec.capabilities, spec.code
        assert set(spec.capabilities) <= set(Capability.values), spec.code
        assert not spec.iccs_code or spec.iccs_code in ICCS, spec.code


@pytest.mark.parametrize(
    ("code", "iccs"),
    [
        ("robo-violencia", "0401"),
        ("hurto", "0502"),
        ("violencia-intrafamiliar", "02011"),
        ("abuso-sexual", "0301"),
        ("disparos", "09011"),
        ("incendio", ""),
        ("urgencia-medica", ""),
    ],
)
def test_crimes_carry_their_iccs_code_and_emergencies_none(code, iccs):
    assert next(s for s in INCIDENT_TYPES if s.code == code).iccs_code == iccs


def test_an_sos_and_a_panic_button_have_a_p1_type():
    by_code = {spec.code: spec for spec in INCIDENT_TYPES}
    assert by_code["sos"].priority == by_code["boton-panico"].priority == Priority.P1


@pytest.mark.django_db
def test_install_is_idempotent_and_audited_when_it_changes_something():
    with transaction.atomic():
        first = check_install_incident_types(None)
    with transaction.atomic():
        second = check_install_incident_types(None)
    assert (first.created, first.updated, first.unchanged) == (len(INCIDENT_TYPES), 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, len(INCIDENT_TYPES))
    assert IncidentType.objects.count() == len(INCIDENT_TYPES)
    tags = list(AuditEvent.objects.values_list("tag", flat=True))
    assert tags == [AuditTag.INCIDENT_TYPES_INSTALLED]
    fire = IncidentType.objects.get(code="incendio")
    assert fire.default_priority == Priority.P1
    assert fire.required_capabilities == ["fire", "ambulance", "civil_protection"]
    assert fire.protocol[0]["code"] == "atrapados"


@pytest.mark.django_db
def test_install_brings_edited_types_back_but_keeps_them_inactive():
    IncidentTypeFactory(code="ruido", name_es="Bulla", default_priority=1, active=False)
    with transaction.atomic():
        counts = check_install_incident_types(None)
    assert (counts.created, counts.updated) == (len(INCIDENT_TYPES) - 1, 1)
    noise = IncidentType.objects.get(code="ruido")
    assert (noise.name_es, noise.default_priority, noise.active) == ("Ruido", Priority.P4, False)


@pytest.mark.django_db
def test_a_broken_catalogue_is_refused(world):
    from dataclasses import replace

    from convive.core.errors import ActionError

    broken = replace(INCIDENT_TYPES[0], iccs_code="99999")
    with pytest.raises(ActionError) as caught, transaction.atomic():
        check_install_incident_types(None, catalogue=(broken,))
    assert caught.value.field == "catalogue"


@pytest.mark.django_db
def test_the_command_installs_the_catalogue(capsys):
    call_command("install_incident_types")
    assert IncidentType.objects.count() == len(INCIDENT_TYPES)
    assert str(len(INCIDENT_TYPES)) in capsys.readouterr().out


@pytest.mark.django_db
def test_names_and_questions_follow_the_language():
    kind = IncidentTypeFactory(
        code="rina",
        name_es="Riña",
        name_en="Fight",
        protocol=[{"code": "armas", "question_es": "¿Hay armas?", "question_en": "Weapons?"}],
    )
    with translation.override("en"):
        assert (kind.name, kind.questions()) == (
            "Fight",
            [{"code": "armas", "question": "Weapons?"}],
        )
    with translation.override("es"):
        assert (str(kind), kind.questions()[0]["question"]) == ("Riña", "¿Hay armas?")
    kind.name_en = ""
    with translation.override("en"):
        assert kind.name == "Riña"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"iccs_code": "0000"}, "iccs_code"),
        ({"protocol": [{"code": "x"}]}, "protocol"),
        ({"protocol": {"code": "x"}}, "protocol"),
        (
            {
                "protocol": [
                    {"code": "x", "question_es": "¿A?"},
                    {"code": "x", "question_es": "¿B?"},
                ]
            },
            "protocol",
        ),
        ({"required_capabilities": ["helicopter"]}, "required_capabilities"),
        ({"required_capabilities": "patrol"}, "required_capabilities"),
    ],
)
@pytest.mark.django_db
def test_an_edited_type_is_checked(changes, field):
    kind = IncidentTypeFactory.build(code="nuevo", **changes)
    with pytest.raises(ValidationError) as caught:
        kind.full_clean()
    assert field in caught.value.message_dict


@pytest.mark.django_db
def test_a_good_type_passes_the_checks():
    IncidentTypeFactory.build(code="nuevo", iccs_code="0401").full_clean()
