import factory

from convive.accounts.roles import Role
from convive.accounts.tests.factories import UserFactory
from convive.institutions.models import Institution, Membership
from convive.territories.tests.factories import CityFactory


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    city = factory.SubFactory(CityFactory)
    slug = factory.Sequence(lambda n: f"institution-{n}")
    name = factory.Sequence(lambda n: f"Institution {n}")
    kind = Institution.Kind.POLICE


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    institution = factory.SubFactory(InstitutionFactory)
    role = Role.DISPATCHER

    @factory.post_generation
    def territories(self, create, extracted, **kwargs):
        if create and extracted:
            self.territories.set(extracted)
