"""The resource board's map pane, drawn in braille: units and open incidents by
position, in a box of character cells (each cell 2 dots wide and 4 high).

Pure: points in, rows of (text, layer) runs out; the screen styles the layers. An
incident is a cross (`×`) of its own cell, so it is seen however many units stand
round it; a cell of units takes the layer of its most pressing unit (committed over
available over the rest), so colour is never the only difference: the legend names
the layers and the summary counts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from math import cos, radians

# Braille dot bits by (column, row) within a cell: U+2800 + the sum of the dots set.
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
BLANK = "\u2800"
INCIDENT = "×"


class Layer(IntEnum):
    """What a cell shows, the higher the more pressing."""

    EMPTY = 0
    OTHER = 1  # busy, refreshment: on duty but not to be sent
    AVAILABLE = 2
    COMMITTED = 3
    INCIDENT = 4


@dataclass(frozen=True, slots=True)
class MapPoint:
    latitude: float
    longitude: float
    layer: Layer


@dataclass(frozen=True, slots=True)
class Bounds:
    south: float
    west: float
    north: float
    east: float

    @classmethod
    def around(cls, points: Iterable[MapPoint], margin: float = 0.02) -> Bounds | None:
        """The smallest box holding every point, a margin (in part of its size) around."""
        placed = list(points)
        if not placed:
            return None
        south = min(p.latitude for p in placed)
        north = max(p.latitude for p in placed)
        west = min(p.longitude for p in placed)
        east = max(p.longitude for p in placed)
        pad_lat = max((north - south) * margin, 0.001)
        pad_lon = max((east - west) * margin, 0.001)
        return cls(south - pad_lat, west - pad_lon, north + pad_lat, east + pad_lon)

    def fitted(self, width: int, height: int) -> Bounds:
        """Widened in one direction so a kilometre is as long across as up and down on
        the dots (a braille dot is about as wide as it is high on a terminal)."""
        dots_w, dots_h = width * 2, height * 4
        mid = (self.south + self.north) / 2
        span_x = (self.east - self.west) * cos(radians(mid))  # in degrees of latitude
        span_y = self.north - self.south
        per_dot = max(span_x / dots_w, span_y / dots_h)
        half_x = per_dot * dots_w / 2 / cos(radians(mid))
        half_y = per_dot * dots_h / 2
        centre_x = (self.west + self.east) / 2
        return Bounds(mid - half_y, centre_x - half_x, mid + half_y, centre_x + half_x)


def draw(
    points: Iterable[MapPoint], bounds: Bounds, width: int, height: int
) -> list[list[tuple[str, Layer]]]:
    """`height` rows of runs (text, layer) across `width` cells. Points outside the
    bounds are left off."""
    dots = [[0] * width for _ in range(height)]
    layers = [[Layer.EMPTY] * width for _ in range(height)]
    span_x = bounds.east - bounds.west
    span_y = bounds.north - bounds.south
    if width <= 0 or height <= 0 or span_x <= 0 or span_y <= 0:
        return [[] for _ in range(max(height, 0))]
    for point in points:
        if not (
            bounds.west <= point.longitude <= bounds.east
            and bounds.south <= point.latitude <= bounds.north
        ):
            continue
        # A point on the east or south edge takes the last dot, not one beyond.
        x = min(int((point.longitude - bounds.west) / span_x * width * 2), width * 2 - 1)
        y = min(int((bounds.north - point.latitude) / span_y * height * 4), height * 4 - 1)
        column, row = x // 2, y // 4
        if point.layer is not Layer.INCIDENT:
            dots[row][column] |= _DOTS[x % 2][y % 4]
        if point.layer > layers[row][column]:
            layers[row][column] = point.layer
    rows: list[list[tuple[str, Layer]]] = []
    for row in range(height):
        runs: list[tuple[str, Layer]] = []
        for column in range(width):
            layer = layers[row][column]
            char = INCIDENT if layer is Layer.INCIDENT else chr(0x2800 + dots[row][column])
            if runs and runs[-1][1] is layer:
                runs[-1] = (runs[-1][0] + char, layer)
            else:
                runs.append((char, layer))
        rows.append(runs)
    return rows


def counts(points: Sequence[MapPoint], bounds: Bounds | None) -> dict[Layer, int]:
    """How many points of each layer the map holds."""
    found: dict[Layer, int] = {}
    for point in points:
        inside = bounds is None or (
            bounds.south <= point.latitude <= bounds.north
            and bounds.west <= point.longitude <= bounds.east
        )
        if inside:
            found[point.layer] = found.get(point.layer, 0) + 1
    return found
