"""The demo accounts: one per role at least, with invented Spanish names.

Every account shares ``DEMO_PASSWORD``, which is published (README, ``convive demo_logins``):
these accounts exist only in a demo database, and ``load_demo`` refuses to add them to a
database that already holds a city.
"""

from __future__ import annotations

from dataclasses import dataclass

from convive.accounts.roles import Role
from convive.demo.facilities import (
    BANK_PARTNER,
    CIVIL_PROTECTION,
    COMMAND_CENTRE,
    EMAIL_DOMAIN,
    POLICE,
    PROSECUTOR,
    SECRETARIAT,
    commissary_slug,
    mayors_office_slug,
    station_slug,
)

DEMO_PASSWORD = "convive-demo-2026"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    role: Role
    institution: str | None = None  # institution slug; None for citizens and platform admins
    limited_to: tuple[str, ...] = ()  # locality codes the membership is narrowed to

    @property
    def email(self) -> str:
        return f"{self.username}@{EMAIL_DOMAIN}"


# The first nine are the documented personas, one per role; the rest make the city less empty.
PEOPLE = (
    DemoPerson("ciudadana", "Lucía", "Fernández Ríos", Role.CITIZEN),
    DemoPerson("operadora", "Carolina", "Mejía Ortiz", Role.CALL_TAKER, COMMAND_CENTRE),
    DemoPerson("despachador", "Andrés Felipe", "Rojas Duarte", Role.DISPATCHER, COMMAND_CENTRE),
    DemoPerson(
        "supervisora", "Diana Marcela", "Castro Peña", Role.SUPERVISOR, station_slug("01"), ("01",)
    ),
    DemoPerson("patrulla", "Jhon Jairo", "Quintero Mora", Role.FIELD_UNIT, station_slug("01")),
    DemoPerson("analista", "Natalia", "Herrera Gómez", Role.ANALYST, SECRETARIAT),
    DemoPerson("admin_policia", "Ricardo", "Salazar Uribe", Role.INSTITUTION_ADMIN, POLICE),
    DemoPerson("socio_camaras", "Mauricio", "Londoño Vélez", Role.CAMERA_PARTNER, BANK_PARTNER),
    DemoPerson("admin", "Paola Andrea", "Vargas Lozano", Role.PLATFORM_ADMIN),
    DemoPerson("operador_noche", "Julián", "Cárdenas Niño", Role.CALL_TAKER, COMMAND_CENTRE),
    DemoPerson(
        "supervisor_02", "Wilson", "Pérez Camargo", Role.SUPERVISOR, station_slug("02"), ("02",)
    ),
    DemoPerson("patrulla_02", "Yeison", "Mosquera Palacios", Role.FIELD_UNIT, station_slug("02")),
    DemoPerson("fiscal", "Adriana", "Beltrán Rincón", Role.ANALYST, PROSECUTOR),
    DemoPerson(
        "comisaria", "Sandra Milena", "Patiño Arango", Role.INSTITUTION_ADMIN, commissary_slug("01")
    ),
    DemoPerson("gestion_riesgo", "Hernán", "Cifuentes Rey", Role.DISPATCHER, CIVIL_PROTECTION),
    # Answers the coexistence reports (noise, lighting, public space) of La Ribera.
    DemoPerson(
        "alcaldia_local", "Claudia", "Restrepo Gil", Role.SUPERVISOR, mayors_office_slug("01")
    ),
    DemoPerson("vecino", "Jorge Luis", "Acosta Ramírez", Role.CITIZEN),
    DemoPerson("lider_comunal", "María Fernanda", "Suárez Ospina", Role.CITIZEN),
    DemoPerson("comerciante", "Óscar", "Ramírez Toro", Role.CITIZEN),
)
