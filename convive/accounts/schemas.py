from ninja import Schema


class MembershipPublic(Schema):
    role: str
    role_label: str
    institution_id: int | None
    institution: str | None
    territories: list[str]


class MePublic(Schema):
    username: str
    full_name: str
    roles: list[str]
    language: str
    memberships: list[MembershipPublic]


class ScopeTerritoryPublic(Schema):
    id: int
    city: str
    layer: str
    code: str
    name: str


class ScopePublic(Schema):
    everywhere: bool
    whole_cities: list[str]
    territories: list[ScopeTerritoryPublic]
