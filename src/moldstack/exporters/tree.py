"""What the 3D views (STEP, glTF/STL) share: the tree they group solids in, and the shape keys they build once.

Holds :func:`solid_tree` (``model -> assembly instance -> part -> solids``), :func:`anchor` and
:func:`translation_key` (solids equal up to a translation are built once and placed), and :func:`mitre_path`
(the wire polyline a mitred sweep can follow without folding). It must not know any file format.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from moldstack.geometry.model import Model, Solid
from moldstack.geometry.primitives import Shape, Wire, moved

Array = NDArray[np.float64]
Tree = list[tuple[str, list[tuple[str, list[Solid]]]]]


def solid_tree(model: Model) -> Tree:
    """The solids grouped as the 3D views show them: group -> part -> solids, in the model's order.

    A group is an assembly instance; solids of no assembly go to ``joints`` (role ``joint``) or ``substrate``.
    A part named like its group (the substrate) is not repeated: its solids sit in the group directly.
    """
    groups: dict[str, dict[str, list[Solid]]] = {}
    for s in model.solids:
        if s.assembly is not None:
            group = s.assembly
        else:
            group = "joints" if s.role.split(".")[0] == "joint" else "substrate"
        groups.setdefault(group, {}).setdefault(s.part, []).append(s)
    return [(g, list(parts.items())) for g, parts in groups.items()]


def anchor(shape: Shape) -> tuple[float, float, float]:
    """The point a shape is built around: its first path point (wire) or its bounding box's low corner."""
    if isinstance(shape, Wire):
        return shape.path[0]
    b = shape.bbox
    return (b[0], b[1], b[2])


def translation_key(shape: Shape) -> Shape:
    """``shape`` moved so its anchor is the origin, rounded to 1e-6 um: equal keys mean equal up to translation."""
    x, y, z = anchor(shape)
    local = moved(shape, -x, -y, -z)
    if isinstance(local, Wire):
        return replace(local, path=tuple(tuple(round(c, 6) for c in p) for p in local.path))
    rounded = {k: round(v, 6) for k, v in vars(local).items() if isinstance(v, float)}
    return replace(local, **rounded)


def mitre_path(points: Array, radius: float) -> Array:
    """The polyline with the joints removed that would make a mitred sweep of ``radius`` fold on itself.

    A segment between bends of theta_a and theta_b needs a length above ``r (tan(theta_a / 2) +
    tan(theta_b / 2))``, or its two mitre planes meet inside the wire. A sampled bond loop can have a segment of a
    fraction of a micrometre next to its crown; dropping the joint with the smaller bend there moves the centre
    line by far less than the chord tolerance. Repeated points are dropped too.
    """
    p = np.asarray(points, dtype=float)
    p = np.vstack([p[:1], p[1:][np.linalg.norm(np.diff(p, axis=0), axis=1) > 1e-9]])
    while len(p) > 2:
        seg = np.diff(p, axis=0)
        length = np.linalg.norm(seg, axis=1)
        u = seg / length[:, None]
        cos_bend = np.clip(np.einsum("ij,ij->i", u[:-1], u[1:]), -1.0, 1.0)
        half_tan = np.zeros(len(p))
        half_tan[1:-1] = np.tan(np.arccos(cos_bend) / 2)
        need = 1.01 * radius * (half_tan[:-1] + half_tan[1:])
        short = np.flatnonzero(length <= need)
        if len(short) == 0:
            break
        i = int(short[np.argmin(length[short] - need[short])])
        ends = [k for k in (i, i + 1) if 0 < k < len(p) - 1]
        drop = min(ends, key=lambda k: half_tan[k])
        p = np.delete(p, drop, axis=0)
    return p
