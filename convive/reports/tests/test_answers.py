"""Answers to a category's extra questions (Open311 attributes), one datatype at a time."""

from datetime import datetime

import pytest
from django.utils import timezone

from convive.core.errors import ActionError
from convive.reports.answers import MAX_ANSWER, check_answers
from convive.reports.models import Question
from convive.reports.tests.factories import CategoryFactory, QuestionFactory

pytestmark = pytest.mark.usefixtures("english")  # messages are compared in English

OPTIONS = [
    {"key": "moto", "name_es": "Moto", "name_en": "Motorbike"},
    {"key": "carro", "name_es": "Carro", "name_en": "Car"},
    {"key": "bici", "name_es": "Bicicleta", "name_en": "Bicycle"},
]


@pytest.fixture
def category(db):
    """One optional question of every datatype."""
    category = CategoryFactory(code="hurto-vehiculo")
    for code, datatype in (
        ("placa", Question.Datatype.STRING),
        ("personas", Question.Datatype.NUMBER),
        ("cuando", Question.Datatype.DATETIME),
        ("relato", Question.Datatype.TEXT),
        ("vehiculo", Question.Datatype.SINGLE),
        ("objetos", Question.Datatype.MULTI),
    ):
        QuestionFactory(category=category, code=code, datatype=datatype, values=OPTIONS)
    return category


def refused(category, answers, code):
    with pytest.raises(ActionError) as caught:
        check_answers(category, answers)
    assert caught.value.field == f"attribute[{code}]"
    assert caught.value.status == 400
    return caught.value


def test_no_answers_to_optional_questions_is_fine(category):
    assert check_answers(category, {}) == {}
    assert check_answers(category, {"placa": "", "objetos": [], "personas": None}) == {}


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("  ABC123 ", "ABC123"),
        (123, "123"),
        ("ABC\n123", "ABC 123"),
        ("a" * MAX_ANSWER, "a" * 1000),
    ],
    ids=["trimmed", "number", "line-break", "longest"],
)
def test_string(category, given, kept):
    assert check_answers(category, {"placa": given}) == {"placa": kept}


@pytest.mark.parametrize(
    "given", ["a" * (MAX_ANSWER + 1), ["ABC123"], {"a": 1}], ids=["long", "list", "dict"]
)
def test_string_refused(category, given):
    refused(category, {"placa": given}, "placa")


@pytest.mark.parametrize(
    ("given", "kept"),
    [("3", 3), (" 2.5 ", 2.5), (4, 4), ("4.0", 4), ("-1", -1), ("1e3", 1000)],
)
def test_number(category, given, kept):
    assert check_answers(category, {"personas": given}) == {"personas": kept}


@pytest.mark.parametrize("given", ["tres", "", "nan", "inf", "-Infinity", "1e999", "1,5", [3]])
def test_number_refused(category, given):
    if given == "":
        assert check_answers(category, {"personas": given}) == {}  # empty: not answered
        return
    refused(category, {"personas": given}, "personas")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("2024-05-01T22:30:00-05:00", "2024-05-01T22:30:00-05:00"),
        ("2024-05-01T22:30:00Z", "2024-05-01T22:30:00+00:00"),
        ("2024-05-01 22:30", "2024-05-01T22:30:00-05:00"),  # no offset: the city's time zone
        ("2024-05-01", "2024-05-01T00:00:00-05:00"),
    ],
    ids=["offset", "utc", "naive", "date-only"],
)
def test_datetime_iso_8601(category, settings, given, kept):
    settings.TIME_ZONE = "America/Bogota"
    answer = check_answers(category, {"cuando": given})["cuando"]
    assert answer == kept
    assert timezone.is_aware(datetime.fromisoformat(answer))


@pytest.mark.parametrize(
    "given", ["ayer", "2024-13-01T10:00", "2024-02-30T10:00", "2024-05-01T25:00", "10:00"]
)
def test_datetime_refused(category, given):
    error = refused(category, {"cuando": given}, "cuando")
    assert "ISO 8601" in error.message


def test_text_keeps_line_breaks_up_to_the_limit(category):
    story = "Primero llegaron dos.\nLuego otro más."
    assert check_answers(category, {"relato": f"  {story}  "}) == {"relato": story}
    assert check_answers(category, {"relato": "a" * MAX_ANSWER})["relato"] == "a" * MAX_ANSWER
    refused(category, {"relato": "a" * (MAX_ANSWER + 1)}, "relato")


def test_singlevaluelist(category):
    assert check_answers(category, {"vehiculo": " moto "}) == {"vehiculo": "moto"}
    for bad in ("avion", "Moto", "moto,carro", ["moto"]):
        refused(category, {"vehiculo": bad}, "vehiculo")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (["moto", "bici"], ["moto", "bici"]),
        ("moto,bici", ["moto", "bici"]),  # the comma form of Open311 clients
        ("moto, bici ,", ["moto", "bici"]),
        (["carro", "carro"], ["carro"]),
        ("bici", ["bici"]),
    ],
    ids=["list", "comma", "comma-spaces", "repeated", "one"],
)
def test_multivaluelist(category, given, kept):
    assert check_answers(category, {"objetos": given}) == {"objetos": kept}


@pytest.mark.parametrize("given", [["moto", "avion"], "moto,avion", ["MOTO"]])
def test_multivaluelist_refused(category, given):
    refused(category, {"objetos": given}, "objetos")


@pytest.mark.parametrize(
    ("code", "blank"),
    [
        ("placa", "  "),
        ("personas", None),
        ("cuando", ""),
        ("relato", "\n"),
        ("vehiculo", ""),
        ("objetos", []),
        ("objetos", " , "),
    ],
)
def test_a_required_question_must_be_answered(category, code, blank):
    Question.objects.filter(category=category).update(required=True)
    filled = {
        "placa": "ABC123",
        "personas": 2,
        "cuando": "2024-05-01T22:30:00-05:00",
        "relato": "Se lo llevaron.",
        "vehiculo": "moto",
        "objetos": ["moto"],
    }
    assert set(check_answers(category, filled)) == set(filled)
    error = refused(category, {**filled, code: blank}, code)
    assert "required" in error.message
    answers = dict(filled)
    del answers[code]
    refused(category, answers, code)


def test_an_unknown_question_is_refused(category):
    other = CategoryFactory(code="otra")
    QuestionFactory(category=other, code="color")
    refused(category, {"placa": "ABC123", "color": "rojo"}, "color")
    refused(CategoryFactory(code="sin-preguntas"), {"placa": "x"}, "placa")
