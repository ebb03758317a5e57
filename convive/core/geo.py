"""Small spatial helpers shared by every app: coordinate checks and H3 cells.

Points are stored as ``lon``/``lat`` (WGS84) plus an H3 cell, the unit of aggregation and the
prefilter for nearby searches (``docs/decisions.md``). ``h3`` takes latitude first.
"""

import h3

from convive.core.errors import ActionError

# Resolution 9 cells are about 0.1 km² (edge ≈ 174 m): a block or two, fine enough for
# "nearby" and coarse enough that an aggregate does not point at a house.
H3_RESOLUTION = 9


def check_lon_lat(lon: float, lat: float) -> tuple[float, float]:
    """Return ``(lon, lat)`` as floats, or raise ActionError naming what is wrong."""
    from django.utils.translation import gettext as _

    try:
        lon_f, lat_f = float(lon), float(lat)
    except (TypeError, ValueError) as exc:
        raise ActionError(_("Longitude and latitude must be numbers.")) from exc
    if not -180.0 <= lon_f <= 180.0:
        raise ActionError(_("Longitude must be between -180 and 180."), field="lon")
    if not -90.0 <= lat_f <= 90.0:
        raise ActionError(_("Latitude must be between -90 and 90."), field="lat")
    return lon_f, lat_f


def h3_cell(lon: float, lat: float, resolution: int = H3_RESOLUTION) -> str:
    return h3.latlng_to_cell(lat, lon, resolution)
