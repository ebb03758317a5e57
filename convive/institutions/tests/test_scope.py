"""Where people act: a supervisor of Kennedy sees Kennedy (and what lies inside it)."""

from convive.institutions.queries import scope_for


def test_supervisor_of_kennedy_covers_kennedy_and_its_neighbourhoods(world, supervisor):
    scope = scope_for(supervisor)
    assert scope.covers_territory(world.kennedy)
    assert scope.covers_territory(world.timiza)
    assert not scope.covers_territory(world.suba)
    assert [t.name for t in scope.top_territories()] == ["Kennedy"]


def test_points_are_judged_by_the_territories_that_contain_them(world, supervisor):
    scope = scope_for(supervisor)
    assert scope.covers_point(world.city, -74.15, 4.60)  # inside Kennedy
    assert not scope.covers_point(world.city, -74.05, 4.70)  # inside Suba
    assert not scope.covers_point(world.city, -70.0, 10.0)  # outside the city


def test_whole_city_institutions_cover_every_point_of_their_city(world, dispatcher):
    scope = scope_for(dispatcher)
    assert scope.covers_point(world.city, -74.05, 4.70)
    assert scope.covers_territory(world.suba)


def test_membership_without_territories_covers_what_the_institution_covers(
    world, institution_admin
):
    scope = scope_for(institution_admin)
    assert scope.covers_territory(world.kennedy)
    assert scope.covers_territory(world.suba)


def test_platform_admin_is_everywhere_and_citizens_nowhere(world, platform_admin, citizen):
    assert scope_for(platform_admin).everywhere
    assert not scope_for(citizen).covers_territory(world.kennedy)
