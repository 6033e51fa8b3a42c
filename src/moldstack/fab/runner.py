"""The runner: apply a flow's steps in order to a material state and record each step.

``run(flow)`` starts from an empty state on the plan lines of :func:`~moldstack.fab.plan.plan_lines`, applies
every step (:data:`~moldstack.fab.operations.OPERATIONS`) and records, per step, its parameters, the layer
stack it leaves, what it observed, the rules it broke, and the state cut by each frame plane (and, if asked,
the whole labelled grid). A step whose preconditions fail still records why and the run goes on, so a broken
flow is reported in full.

It must not call the model builder: the process makes its structure from the flow alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from moldstack.fab.operations import OPERATIONS
from moldstack.fab.plan import plan_lines
from moldstack.fab.record import LayerEntry, ProcessRun, Slice, StepRecord
from moldstack.fab.state import ProcessState
from moldstack.fab.steps import STEP_TITLES, DieAttach, Flow, PadArray, WireBond
from moldstack.geometry.section import Plane, as_plane
from moldstack.geometry.voxelize import Voxels

_COMMON = {"step", "label", "duration_min", "note"}
Progress = Callable[[int, int, str], None]


def default_frames(flow: Flow) -> tuple[Plane, ...]:
    """One vertical plane through a pad's centre and, as nearly as any, along its wire bond.

    Each bond runs mostly along x or along y; the plane along it through its pad's centre (``y = pad y`` or
    ``x = pad x``) cuts the die, the via through that pad and as much of the wire as the bond's sideways
    offset allows. The bond with the least offset (then the one nearest the panel's middle) is chosen, so a
    bond straight out from its contact is seen whole. Without bonds, the first pad's row; without pads, the
    panel's middle.
    """
    pads = {p.name: p.at_um for s in flow.steps if isinstance(s, PadArray) for p in s.pads}
    contacts = {
        f"{s.die}.{c.name}": c.at_um for s in flow.steps if isinstance(s, DieAttach) for c in s.contacts
    }
    bonds = [b for s in flow.steps if isinstance(s, WireBond) for b in s.bonds]
    candidates = []
    for b in bonds:
        if b.contact not in contacts or b.pad not in pads:
            continue
        (xc, yc), (xp, yp) = contacts[b.contact], pads[b.pad]
        if abs(xp - xc) >= abs(yp - yc):
            candidates.append((abs(yc - yp), abs(yp), "y", yp))
        else:
            candidates.append((abs(xc - xp), abs(xp), "x", xp))
    if candidates:
        _, _, axis, at = min(candidates)
        return (Plane(axis, at),)
    if pads:
        return (Plane("y", next(iter(pads.values()))[1]),)
    return (Plane("y", 0.5 * (flow.panel_um[1] + flow.panel_um[3])),)


def layer_stack(state: ProcessState) -> tuple[LayerEntry, ...]:
    """Every label present: its z extent and volume, bottom to top."""
    labels = state.labels
    n = len(state.table)
    vol = state.grid.cell_volumes()
    volumes = np.bincount(labels.ravel(), weights=vol.ravel(), minlength=n)
    present = np.zeros((n, labels.shape[2]), dtype=bool)
    for k in range(labels.shape[2]):
        present[np.unique(labels[:, :, k]), k] = True
    z = state.grid.z
    out = []
    for i in range(1, n):
        ks = np.nonzero(present[i])[0]
        if ks.size:
            lab = state.table[i]
            breaks = np.nonzero(np.diff(ks) > 1)[0]
            starts = np.concatenate([[ks[0]], ks[breaks + 1]])
            ends = np.concatenate([ks[breaks], [ks[-1]]])
            intervals = tuple((float(z[a]), float(z[b + 1])) for a, b in zip(starts, ends, strict=True))
            out.append(
                LayerEntry(
                    lab.role,
                    lab.material,
                    float(z[ks[0]]),
                    float(z[ks[-1] + 1]),
                    float(volumes[i]),
                    intervals,
                )
            )
    return tuple(sorted(out, key=lambda e: (e.z0, e.z1, e.role)))


def cut(state: ProcessState, plane: Plane) -> Slice:
    """The state cut by a vertical plane (``x=`` or ``y=``)."""
    g = state.grid
    if plane.axis == "y":
        j = g.index(1, plane.at_um)
        labels, u = state.labels[:, j, :].copy(), g.x
    elif plane.axis == "x":
        i = g.index(0, plane.at_um)
        labels, u = state.labels[i, :, :].copy(), g.y
    else:
        raise ValueError(f"process frames are vertical cuts (x= or y=), not {plane}")
    return Slice(plane, u.copy(), g.z.copy(), labels, tuple(state.table.labels))


def run(
    flow: Flow,
    *,
    frames: Sequence[Plane | str] | None = None,
    keep_states: bool = False,
    progress: Progress | None = None,
) -> ProcessRun:
    """Apply ``flow`` step by step; see the module docstring."""
    started = time.perf_counter()
    planes = tuple(as_plane(p) for p in (frames or flow.frames or ())) or default_frames(flow)
    x, y = plan_lines(flow)
    state = ProcessState.empty(x, y, flow.grid.z_cell_um, flow.grid.max_cells)
    records = []
    for index, step in enumerate(flow.steps, start=1):
        if progress is not None:
            progress(index, len(flow.steps), step.step)
        t0 = time.perf_counter()
        outcome = OPERATIONS[step.step](state, step, index, flow.panel_um)
        params = step.model_dump(mode="json", exclude=_COMMON)
        records.append(
            StepRecord(
                index=index,
                kind=step.step,
                title=step.label or STEP_TITLES[step.step],
                params=params,
                duration_min=step.duration_min,
                stack=layer_stack(state),
                observations=outcome.observations,
                violations=tuple(outcome.violations),
                slices=tuple(cut(state, p) for p in planes),
                seconds=time.perf_counter() - t0,
                state=state.snapshot() if keep_states else None,
            )
        )
    final = Voxels(state.grid, state.labels, state.table)
    return ProcessRun(flow, tuple(records), final, time.perf_counter() - started, planes)


__all__ = ["cut", "default_frames", "layer_stack", "run"]
