"""Invented Spanish place names for the demo city's localities and neighbourhoods.

Names are built from word lists the way Latin American barrios are named ("Los Pinos",
"Santa Inés", "Nueva Floresta", "Altos del Mirador"). Any likeness to a real barrio is the
likeness of one common name to another; the combinations are drawn from the seeded ``rng``.
"""

from __future__ import annotations

import random


def _words(text: str) -> list[str]:
    return text.split()


# Nouns by the article they take. "Esperanza" is left out: it belongs to the city's own name.
_LA = _words(
    "Floresta Estancia Pradera Campiña Alameda Colina Aurora Victoria Libertad Arboleda "
    "Primavera Ceiba Loma Cumbre Quinta Ribera Palma Gaitana Fragua Sabana Vega Macarena"
)
_EL = _words(
    "Mirador Bosque Recreo Porvenir Retiro Prado Jardín Rosal Carmen Refugio Tesoro Remanso "
    "Portal Paraíso Limonar Guamal Lucero Edén Olivo Manantial Triunfo Caney"
)
_LOS = _words(
    "Pinos Rosales Cedros Almendros Laureles Naranjos Alpes Andes Sauces Olivos Cerezos "
    "Robles Guaduales Arrayanes Samanes Ocobos Cámbulos Mangos"
)
_LAS = _words(
    "Acacias Palmas Margaritas Brisas Américas Ferias Lomas Orquídeas Gaviotas Violetas "
    "Colinas Flores Granjas Vegas Heliconias"
)
_SAN = _words(
    "Rafael Gabriel Martín Antonio José Mateo Lucas Pedro Vicente Fernando Bernardo Joaquín "
    "Cayetano Isidro Luis Jerónimo"
)
_SANTA = _words(
    "Inés Lucía Bárbara Rosa Teresa Isabel Mónica Marta Helena Ana Cecilia Clara Rita Librada "
    "Sofía Catalina"
)
_VILLA = _words("Rosa Elisa Luz Mercedes Alicia Sonia Amalia Gloria Nelly Adriana Claudia")
# Prefixes of a compound name: "Altos de San Mateo", "Balcones del Mirador"; and "Urbanización".
_COMPOUND = ("Altos", "Balcones", "Jardines", "Prados", "Portal")


def _simple_names() -> list[str]:
    names = [f"La {n}" for n in _LA] + [f"El {n}" for n in _EL]
    names += [f"Los {n}" for n in _LOS] + [f"Las {n}" for n in _LAS]
    names += [f"San {n}" for n in _SAN] + [f"Santa {n}" for n in _SANTA]
    return names


def _prefixed_names() -> list[str]:
    names = [f"Villa {n}" for n in _VILLA]
    return names + [f"Nueva {n}" for n in _LA] + [f"Nuevo {n}" for n in _EL]


def _with_de(name: str) -> str:
    """'El Mirador' -> 'del Mirador', 'Los Pinos' -> 'de los Pinos', 'San Luis' -> 'de San Luis'."""
    article, _space, rest = name.partition(" ")
    if article == "El":
        return f"del {rest}"
    if article in {"La", "Los", "Las"}:
        return f"de {article.lower()} {rest}"
    return f"de {name}"


def _compound_names() -> list[str]:
    names = [f"{prefix} {_with_de(base)}" for prefix in _COMPOUND for base in _simple_names()]
    return names + [f"Urbanización {base}" for base in _simple_names()]


class NameDrawer:
    """Draws names without ever repeating one.

    ``plain`` gives the simple names localities take ("Los Pinos", "Santa Inés"); ``draw`` mixes
    in "Villa"/"Nueva" names and compound ones, as neighbourhoods have.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._pools = (_simple_names(), _prefixed_names(), _compound_names())
        for pool in self._pools:
            rng.shuffle(pool)
        self._used: set[str] = set()

    def plain(self) -> str:
        return self._next(self._pools[0])

    def draw(self) -> str:
        roll = self._rng.random()
        pool = self._pools[0] if roll < 0.55 else self._pools[1] if roll < 0.75 else self._pools[2]
        return self._next(pool or self._pools[2])

    def _next(self, pool: list[str]) -> str:
        while pool:
            name = pool.pop()
            if name not in self._used:
                self._used.add(name)
                return name
        raise ValueError("The demo name lists are exhausted.")
