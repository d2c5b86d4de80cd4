"""Share pure, CPU-bound planning between processes (not threads), on every core.

- :func:`ordered_map` runs one function over many items (services), yielding results in
  the items' order. Its workers are forked: a worker sees the parent's modules, Models and
  planner as they are at the call, and only an item's index goes to it and its result comes
  back. At most ``2 * workers`` results wait to be consumed, so memory stays bounded however
  many items there are.
- :func:`helper` forks one process before its work is known, so that what that work
  needs is imported there while the caller does something else (loads the one spec of a
  run), then hands it one call: one service's planners on two cores.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
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


def _discarding(fn: Callable[[], object]) -> None:
    """Run ``fn`` and return nothing: unpickling the functions it may return would import
    their modules in the caller."""
    fn()


class Helper:
    """One forked process that runs ``prepare()`` (imports) as soon as it starts and then
    the calls handed to it; their arguments and results are pickled."""

    def __init__(self, prepare: Callable[[], object]) -> None:
        context = multiprocessing.get_context("fork")
        self._pool = ProcessPoolExecutor(
            1, mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),)
        )
        self._pool.submit(_discarding, prepare)  # forks now: a fork pool starts at once

    def submit(self, fn: Callable[[T], R], arg: T) -> Future[R]:
        """Return the future result of ``fn(arg)``, run in the helper after its imports.
        ``fn`` must be importable by name (a module-level function)."""
        return self._pool.submit(fn, arg)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def helper(prepare: Callable[[], object], workers: int) -> Iterator[Helper | None]:
    """Yield a :class:`Helper` running ``prepare``, or None when ``workers`` (the processes
    the run may use) is 1 or this process may run on one CPU only. Stopped on exit; a helper
    is killed with its parent (PR_SET_PDEATHSIG), so a killed run leaves no orphan."""
    if workers < 2 or cores() < 2:
        yield None
        return
    started = Helper(prepare)
    try:
        yield started
    finally:
        started.close()
