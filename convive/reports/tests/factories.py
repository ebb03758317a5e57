import uuid

import factory

from convive.reports.models import Category, Question, Report, RoutingRule
from convive.territories.tests.factories import CityFactory


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"category-{n}")
    kind = Category.Kind.COEXISTENCE
    name_es = factory.Sequence(lambda n: f"Categoría {n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")
    publication = Category.Publication.FULL


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    category = factory.SubFactory(CategoryFactory)
    code = factory.Sequence(lambda n: f"q{n}")
    datatype = Question.Datatype.STRING
    label_es = factory.Sequence(lambda n: f"Pregunta {n}")
    label_en = factory.Sequence(lambda n: f"Question {n}")


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    category = factory.SubFactory(CategoryFactory)


class ReportFactory(factory.django.DjangoModelFactory):
    """A report written straight to the table; use ``check_create_report`` to test intake."""

    class Meta:
        model = Report

    city = factory.SubFactory(CityFactory)
    category = factory.SubFactory(CategoryFactory)
    channel = Report.Channel.WEB
    description = "Un poste de luz apagado hace una semana."
    idempotency_key = factory.LazyFunction(lambda: uuid.uuid4().hex)
