"""Distances between points on the ground, for "nearby" rules such as duplicate calls."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

# Mean Earth radius (IUGG). The haversine error against the ellipsoid is under 0.5%,
# far below what a 200 m "same place" rule can notice.
EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points, by the haversine formula."""
    phi1, phi2 = radians(lat1), radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = radians(lon2 - lon1)
    h = sin(d_phi / 2) ** 2 + cos(phi1) * cos(phi2) * sin(d_lambda / 2) ** 2
    # min() guards asin against rounding just above 1 for antipodal points.
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h)))


def step_towards(
    lat: float, lon: float, to_lat: float, to_lon: float, metres: float
) -> tuple[float, float, bool]:
    """Where a unit at (lat, lon) is after going `metres` in a straight line towards
    (to_lat, to_lon): (latitude, longitude, arrived). Within `metres` it is there."""
    left = distance_m(lat, lon, to_lat, to_lon)
    if left <= metres or left == 0:
        return to_lat, to_lon, True
    part = metres / left
    # Over a few kilometres a straight line in degrees is the straight line on the ground.
    return lat + (to_lat - lat) * part, lon + (to_lon - lon) * part, False
