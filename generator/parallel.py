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
import fcntl
import os
import pickle
import signal
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import NoReturn, TypeVar

from .libc import LIBC

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
    LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _run(index: int):
    assert _job is not None
    fn, items = _job
    return fn(items[index])


class WorkerDied(RuntimeError):
    """A planning process died (killed, out of memory) before it returned a result."""


def ordered_map(fn: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[R]:
    """Yield ``fn(item)`` for each item, in order, computed by up to ``workers`` processes.

    With one worker or one item, nothing is forked, and neither ``multiprocessing`` nor
    ``concurrent.futures`` is imported (about 20 ms of a one-spec run's start-up). An
    exception raised by ``fn`` is raised here, at its item's turn; the remaining work is
    then abandoned and the workers stopped. A worker that dies (killed, out of memory)
    raises :class:`WorkerDied` instead of leaving its result waited for forever.
    """
    workers = max(1, min(workers, len(items)))
    if workers == 1:
        yield from map(fn, items)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

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
            except BrokenProcessPool as exc:
                raise WorkerDied("a planning process died") from exc
            finally:
                for future in pending:  # abandoned: an error, or the consumer stopped
                    future.cancel()
    finally:
        _job = None


class HelperDied(WorkerDied):
    """The helper process died (killed, out of memory) before it returned a result."""


def _send(fd: int, obj: object) -> None:
    """Write ``obj`` pickled, after its length (4 bytes, big-endian), to pipe ``fd``."""
    data = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    view = memoryview(struct.pack("!I", len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _recv(fd: int) -> object:
    """Read one object :func:`_send` wrote to pipe ``fd``; raise EOFError when the other
    end closed before a whole one arrived."""
    (size,) = struct.unpack("!I", _read(fd, 4))
    return pickle.loads(_read(fd, size))


def _read(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, _PIPE_BYTES))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class Helper:
    """One forked process that runs ``prepare()`` (imports) as soon as it starts, then the
    calls handed to it, one at a time; their arguments and results are pickled.

    Built on ``os.fork`` and two pipes rather than a process pool: the pool's threads and
    its shutdown, which waits for a running task, would keep an early exit (a spec with a
    mistake) waiting for imports nobody needs. Each message is a pickle after its length.
    Closing kills the process: its work is pure. Raises OSError when the process cannot be
    forked (a process limit).
    """

    def __init__(self, prepare: Callable[[], object]) -> None:
        self._owner = os.getpid()
        requests_in, self._requests = os.pipe()
        self._results, results_out = os.pipe()
        with contextlib.suppress(OSError):  # room for a large spec's Model: never wait to send
            fcntl.fcntl(self._requests, _F_SETPIPE_SZ, _PIPE_BYTES)
        self._pid: int | None = os.fork()
        if self._pid == 0:  # the helper: never returns
            os.close(self._requests)
            os.close(self._results)
            _serve(self._owner, prepare, requests_in, results_out)
        os.close(requests_in)
        os.close(results_out)

    def submit(self, fn: Callable[[T], R], arg: T) -> Callable[[], R]:
        """Hand ``fn(arg)`` to the helper; return a function that waits for its result and
        returns it, or raises what ``fn`` raised, or :class:`HelperDied`. ``fn`` must be
        importable by name (a module-level function)."""
        if os.getpid() != self._owner:
            raise RuntimeError("a Helper takes work only from the process that started it")
        _send(self._requests, (fn, arg))
        return self._result

    def _result(self):
        try:
            ok, value = _recv(self._results)  # type: ignore[misc]
        except (EOFError, OSError) as exc:
            raise HelperDied("the helper process died") from exc
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """Stop the helper at once (whatever it is doing); again, nothing. A daemon thread
        reaps it: waiting here for the kernel to free its memory took about 4 ms of a lone
        spec's run, whose process exits right after (its child is then reaped by init)."""
        if os.getpid() != self._owner or self._pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._pid, signal.SIGKILL)
        threading.Thread(target=_reap, args=(self._pid,), daemon=True).start()
        self._pid = None
        os.close(self._requests)
        os.close(self._results)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


_F_SETPIPE_SZ = 1031  # linux/fcntl.h
_PIPE_BYTES = 1 << 20  # Linux's default limit for an unprivileged process


def _serve(owner: int, prepare: Callable[[], object], requests: int, results: int) -> NoReturn:
    """The helper's life: die with ``owner``, quietly on Ctrl-C (the terminal sends SIGINT to
    the whole process group: ``owner`` reports it), prepare, then answer requests until the
    pipe closes. An exception of a call is sent back to be raised in ``owner``."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _die_with_parent(owner)
        prepare()
        while True:
            try:
                fn, arg = _recv(requests)  # type: ignore[misc]
            except EOFError:
                break
            try:
                answer = (True, fn(arg))
            except Exception as exc:
                answer = (False, exc)
            try:
                _send(results, answer)
            except Exception as exc:  # the answer (a result or an exception) does not pickle
                _send(results, (False, RuntimeError(f"{type(exc).__name__}: {exc}")))
    except BaseException:
        code = 1
    finally:
        os._exit(code)


@contextlib.contextmanager
def helper(prepare: Callable[[], object], workers: int) -> Iterator[Helper | None]:
    """Yield a :class:`Helper` running ``prepare``, or None when ``workers`` (the processes
    the run may use) is 1, this process may run on one CPU only, or no process can be
    forked (the caller then does the work itself). Killed on exit; a helper also dies with
    its parent (PR_SET_PDEATHSIG), so a killed run leaves no orphan."""
    started = None
    if workers >= 2 and cores() >= 2:
        with contextlib.suppress(OSError):
            started = Helper(prepare)
    try:
        yield started
    finally:
        if started is not None:
            started.close()
