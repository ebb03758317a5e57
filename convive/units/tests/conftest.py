"""Units on top of the root ``world`` (Kennedy and Suba, the police covering both)."""

KENNEDY_POINT = (-74.15, 4.60)  # lon, lat
SUBA_POINT = (-74.05, 4.70)
