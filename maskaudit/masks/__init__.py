"""Synthetic face masks: landmark-anchored, procedural surgical / N95 / cloth masks.

``mask_polygon`` gives the outline (pure geometry), ``render_mask`` draws a :class:`MaskSpec` onto an
image deterministically from a ``numpy.random.Generator``, and ``check_placement`` reports which
landmarks a mask's alpha covers. The kinds are the entries of ``MASK_KIND_SHAPES`` (geometry.py) and the
textures those of render.py's ``_TEXTURE``: each is named there only (docs/extending.md).
"""

from .geometry import (
    COVERAGE_LEVELS,
    LANDMARK_GROUPS,
    MASK_KIND_SHAPES,
    MASK_KINDS,
    check_placement,
    estimate_yaw,
    mask_polygon,
)
from .render import TEXTURES, MaskRender, MaskSpec, render_mask

__all__ = [
    "COVERAGE_LEVELS",
    "LANDMARK_GROUPS",
    "estimate_yaw",
    "MASK_KINDS",
    "MASK_KIND_SHAPES",
    "TEXTURES",
    "MaskRender",
    "MaskSpec",
    "check_placement",
    "mask_polygon",
    "render_mask",
]
