"""Run one function over many items on every core, yielding results in the items' order.

Planning services is pure and CPU-bound, so processes (not threads) share the work. They are
forked: a worker sees the parent's modules, Models and planner as they are at the call, and
only an item's index goes to it and its result comes back. At most ``2 * workers`` results
wait to be consumed, so memory stays bounded however many items there are.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_job: tuple[Callable, Sequence] | None = None  # what the forked workers run


def cores() -> int:
    """Return the number of CPUs this process may run on."""
    return len(os.sched_getaffinity(0))


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """Worker start-up: be killed with the parent, so a killed ``generate`` leaves no
    orphans blocked on the work queue (Linux's PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _run(index: int):
    assert _job is not None
    fn, items = _job
    return fn(items[index])


def ordered_map(fn: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[R]:
    """Yield ``fn(item)`` for each item, in order, computed by up to ``workers`` processes.

    With one worker or one item, nothing is forked. An exception raised by ``fn`` is raised
    here, at its item's turn; the remaining work is then abandoned and the workers stopped.
    A worker that dies (killed, out of memory) raises BrokenProcessPool instead of leaving
    its result waited for forever.
    """
    workers = max(1, min(workers, len(items)))
    if workers == 1:
        yield from map(fn, items)
        return
    global _job
    _job = (fn, items)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            pending: deque = deque()
            try:
                for index in range(len(items)):
                    pending.append(pool.submit(_run, index))
                    if len(pending) >= 2 * workers:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for future in pending:  # abandoned: an error, or the consumer stopped
                    future.cancel()
    finally:
        _job = None
