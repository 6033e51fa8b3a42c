"""fork_map: pieces of one computation in forked processes that share this one's memory."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from moldstack.fields.fork_map import ForkedWorkerError, fork_map

SHARED = np.arange(1_000_000, dtype=np.float64)  # the children read it without a copy being sent


def _sum_share(share: tuple[int, int]) -> tuple[int, float]:
    lo, hi = share
    return os.getpid(), float(SHARED[lo:hi].sum())


def test_results_come_back_in_order_from_other_processes() -> None:
    shares = [(0, 250_000), (250_000, 500_000), (500_000, 1_000_000)]
    results = fork_map(_sum_share, shares)
    assert [r[1] for r in results] == [float(SHARED[lo:hi].sum()) for lo, hi in shares]
    pids = [r[0] for r in results]
    assert pids[0] == os.getpid() and len(set(pids)) == 3  # the first share here, the others in children


def _fail_in_child(item: int) -> int:
    if item == 2:
        raise KeyError(f"share {item} is missing")
    return item


def test_an_exception_in_a_child_is_raised_here() -> None:
    with pytest.raises(KeyError, match="share 2 is missing"):
        fork_map(_fail_in_child, [1, 2, 3])


def _die(item: int) -> int:
    if item == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return item


def test_a_child_that_dies_is_an_error_not_a_hang() -> None:
    with pytest.raises(ForkedWorkerError, match="died"):
        fork_map(_die, [0, 1])


def test_one_item_runs_here() -> None:
    assert fork_map(_sum_share, [(0, 10)])[0][0] == os.getpid()
