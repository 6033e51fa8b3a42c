"""Run independent pieces of one computation in forked processes that share the parent's memory.

A field solve prepared once (grid, matrix, multigrid hierarchy: hundreds of MB) is solved for many right-hand
sides, one per conductor of a capacitance matrix. Forked children see the prepared solver without copying or
pickling it (copy-on-write pages), so :func:`fork_map` hands each child its share of the right-hand sides and
collects the (small) results through a pipe. Where ``os.fork`` does not exist, everything runs in this process.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def cores() -> int:
    """The CPU cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


class ForkedWorkerError(RuntimeError):
    """A forked worker failed or died; the message says how."""


def die_with_parent() -> None:
    """In a child process: be killed when the parent dies (Linux), so no orphan goes on computing or writing."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _child(func: Callable[[T], R], item: T, write_fd: int) -> None:
    """The forked child's whole life: compute, send the result (or the error) down the pipe, exit."""
    try:
        die_with_parent()
        try:
            payload = pickle.dumps(("ok", func(item)))
        except BaseException as exc:
            try:
                payload = pickle.dumps(("error", exc))
            except Exception:
                payload = pickle.dumps(("error", ForkedWorkerError(f"{type(exc).__name__}: {exc}")))
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(0)  # no atexit handlers, no flushing of the parent's buffers


def fork_map(func: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[func(item) for item in items]``: ``items[0]`` in this process, each other item in a forked child.

    The results come back in order. An exception in a child is raised here (the same exception where it can be
    pickled, else :class:`ForkedWorkerError`); a child that dies raises :class:`ForkedWorkerError`.
    """
    if len(items) <= 1 or not hasattr(os, "fork"):
        return [func(item) for item in items]
    children: list[tuple[int, int]] = []
    try:
        for item in items[1:]:
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_fd)
                _child(func, item, write_fd)
            os.close(write_fd)
            children.append((pid, read_fd))
        results = [func(items[0])]
    except BaseException:
        for pid, read_fd in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
            with contextlib.suppress(OSError):
                os.close(read_fd)
        raise
    failure: BaseException | None = None
    for pid, read_fd in children:
        with os.fdopen(read_fd, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if not data:
            failure = failure or ForkedWorkerError(f"a worker process died (wait status {status})")
            continue
        kind, value = pickle.loads(data)
        if kind == "error":
            failure = failure or value
            continue
        results.append(value)
    if failure is not None:
        raise failure
    return results


__all__ = ["ForkedWorkerError", "cores", "die_with_parent", "fork_map"]
