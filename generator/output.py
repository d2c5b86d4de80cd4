"""Serialisation (one place) and the atomic swap of the output tree."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import fcntl
import hashlib
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from . import json_text, yaml_text
from .libc import LIBC
from .parallel import cores

Files = dict[str, bytes]  # relative path -> content
T = TypeVar("T")
R = TypeVar("R")


def header(source: str, comment: str = "#") -> str:
    """Return the provenance header every generated text file starts with."""
    return (
        f"{comment} Generated from {source} by `make generate`. DO NOT EDIT.\n"
        f"{comment} Change the spec and regenerate; review the diff.\n"
    )


def to_yaml(data: object, source: str) -> bytes:
    """Return ``data`` (a mapping or list) as YAML with the generated-file header; key order
    is kept (``yaml_text.dump``: PyYAML's bytes, written the fast way)."""
    return (header(source) + yaml_text.dump(data)).encode("utf-8")


def to_json(data: object) -> bytes:
    """Return ``data`` as indented JSON with a trailing newline (JSON has no comments):
    ``json.dumps(data, indent=2, ensure_ascii=False)``'s text (``json_text.dump``)."""
    return (json_text.dump(data) + "\n").encode("utf-8")


def write_tree(root: Path, files: Files) -> None:
    """Write ``files`` under ``root``. Not flushed to disk: :func:`replacing` flushes the
    whole staged tree at once before swapping it in."""
    made: set[Path] = set()
    for rel, content in sorted(files.items()):
        target = root / rel
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        with open(target, "wb") as handle:
            handle.write(content)


def _flush_to_disk(root: Path) -> None:
    """Make every file and folder under ``root`` durable: one ``syncfs(2)`` of its file
    system (Linux), else an fsync per file and folder. Raises OSError if the disk fails."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        syncfs = getattr(_libc, "syncfs", None)
        if syncfs is not None:
            if syncfs(fd) == 0:
                return
            err = ctypes.get_errno()
            if err not in _UNSUPPORTED:  # ENOSYS and the like: fsync each path instead
                raise OSError(err, os.strerror(err), str(root))
    finally:
        os.close(fd)
    for path in (root, *sorted(root.rglob("*"))):
        flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
        handle = os.open(path, flags)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def read_tree(root: Path) -> Files:
    """Return every file under ``root`` as relative path -> bytes."""
    if not root.is_dir():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def read_paths(root: Path) -> set[str]:
    """Return the relative path of every file under ``root`` (none when it is missing)."""
    if not root.is_dir():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


class OutputError(RuntimeError):
    """The staged tree is not what was planned; out/ was left as it was."""


_libc = LIBC
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
# renameat2 and syncfs answer these when the kernel or the file system cannot do it.
_UNSUPPORTED = frozenset({errno.ENOSYS, errno.EINVAL, errno.ENOTSUP})


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2).

    Return False where exchange is unsupported; raise OSError on any other failure, so a
    failed swap is never mistaken for "unsupported" and retried the non-atomic way.
    """
    fn = getattr(_libc, "renameat2", None)
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in _UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), str(a))


def _rmtree(path: Path) -> None:
    """Remove ``path`` and everything under it, even folders a user made read-only (a
    read-only ``out/`` is swapped out whole and must still be removable afterwards)."""

    def unlock_and_retry(func, name, _exc_info) -> None:
        parent = os.path.dirname(name)
        os.chmod(parent, os.stat(parent).st_mode | stat.S_IRWXU)
        if os.path.isdir(name) and not os.path.islink(name):
            os.chmod(name, os.stat(name).st_mode | stat.S_IRWXU)
            shutil.rmtree(name, onerror=unlock_and_retry)
        else:
            func(name)

    if path.is_dir() and not path.is_symlink():
        os.chmod(path, os.stat(path).st_mode | stat.S_IRWXU)
    shutil.rmtree(path, onerror=unlock_and_retry)


def _discard(tree: Path) -> None:
    """Remove ``tree`` (the old output tree, swapped out), a top-level folder per thread."""
    _threaded(_rmtree, sorted(p for p in tree.iterdir() if p.is_dir() and not p.is_symlink()))
    _rmtree(tree)


def _aside(out: Path, kind: str) -> str:
    """Return the name prefix of the folders a run makes beside ``out``: ``new`` (the tree
    being staged) and ``old`` (the old tree, between the two renames of a fallback swap)."""
    return f".{out.name}.{kind}-"


def shown(where: str | os.PathLike, out: Path) -> str:
    """Name ``where`` for the user: a folder a run makes beside ``out`` is named by ``out``
    and the folder it is made in; any other path as it is."""
    path, resolved = Path(where), out.resolve()
    made = any(path.name.startswith(_aside(resolved, kind)) for kind in ("new", "old"))
    if made and path.parent == resolved.parent:
        return f"{out} (the new tree is built beside it, in {path.parent}/)"
    return str(where)


def _swap_by_renames(staging: Path, out: Path) -> None:
    """Replace ``out`` with ``staging`` by two renames, restoring ``out`` if the second fails.

    Used only where renameat2 cannot exchange; a kill between the renames leaves out/ absent
    (never mixed) with the old tree in a ``.<out>.old-*`` folder beside it.
    """
    old = Path(tempfile.mkdtemp(prefix=_aside(out, "old"), dir=out.parent))
    os.rename(out, old / "tree")
    try:
        os.rename(staging, out)
    except BaseException:
        os.rename(old / "tree", out)
        old.rmdir()
        raise
    _rmtree(old)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (no lock file is created; released on exit/kill).

    A process forked while the lock is held (a planning worker) closes its copy of the
    descriptor at once: an flock belongs to the open file, so a worker outliving a killed
    parent would otherwise keep every later run waiting.
    """
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    _held.add(fd)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        _held.discard(fd)
        os.close(fd)


_held: set[int] = set()  # descriptors of the locks this process holds


def _drop_inherited_locks() -> None:
    for fd in _held:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


os.register_at_fork(after_in_child=_drop_inherited_locks)


def _refuse_read_only(out: Path) -> None:
    """Raise PermissionError if ``out`` or a folder in it is read-only for this user: a
    folder someone write-protected is not replaced behind their back."""
    if not out.is_dir():
        return
    for folder in (out, *(out / rel for rel in sorted(_list(out).folders))):
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, "read-only; nothing was written", str(folder))


@dataclasses.dataclass
class _Listing:
    """What is under a folder, as paths relative to it: ``folders`` (each after its
    parent), regular ``files``, and ``others`` (symbolic links, FIFOs: never generated)."""

    folders: list[str]
    files: list[str]
    others: list[str]


def _list(root: Path) -> _Listing:
    """Return the listing of ``root`` (no symbolic link is followed)."""
    listing = _Listing([], [], [])
    pending = [""]
    while pending:
        rel = pending.pop()
        with os.scandir(os.path.join(root, rel)) as entries:
            for entry in entries:
                path = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_dir(follow_symlinks=False):
                    listing.folders.append(path)
                    pending.append(path)
                elif entry.is_file(follow_symlinks=False):
                    listing.files.append(path)
                else:
                    listing.others.append(path)
    return listing


def _threaded(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """Return ``[fn(item) for item in items]``, computed by one thread per CPU (this one
    among them). For file work (reading, hashing, making and removing folders), which
    releases the GIL: a tree of a thousand services holds tens of thousands of files and
    eleven thousand folders. Raises the first exception a call raised; the items not yet
    started are then skipped.

    Plain threads, not ``concurrent.futures``: importing it (with ``logging``) and starting
    its pool cost about 6 ms, more than removing one service's old files, on every run."""
    threads = min(cores(), len(items))
    if threads < 2:
        return [fn(item) for item in items]
    results: list = [None] * len(items)
    failed: list[BaseException] = []
    order = iter(range(len(items)))
    lock = threading.Lock()

    def work() -> None:
        while not failed:
            with lock:
                index = next(order, None)
            if index is None:
                return
            try:
                results[index] = fn(items[index])
            except BaseException as exc:
                failed.append(exc)

    others = [threading.Thread(target=work) for _ in range(threads - 1)]
    for thread in others:
        thread.start()
    work()
    for thread in others:
        thread.join()
    if failed:
        raise failed[0]
    return results


def _per_file(fn: Callable[[str], R], root: Path, paths: list[str]) -> dict[str, R]:
    """Return ``fn(file)`` for each file of ``paths`` (relative to ``root``), by path; the
    files are shared between the threads of :func:`_threaded`, a few dozen at least each."""

    def run(part: list[str]) -> list[tuple[str, R]]:
        return [(rel, fn(os.path.join(root, rel))) for rel in part]

    parts = min(cores(), len(paths) // 64 + 1)
    return {
        rel: value
        for part in _threaded(run, [paths[i::parts] for i in range(parts)])
        for rel, value in part
    }


def _sha256_of(path: str) -> bytes:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).digest()


def _hash_files(root: Path, paths: list[str]) -> dict[str, bytes]:
    """Return the SHA-256 of each file of ``paths`` (relative to ``root``), by path."""
    return _per_file(_sha256_of, root, paths)


def _digests(root: Path) -> dict[str, bytes]:
    """Return every file under ``root`` as relative path -> SHA-256, read back from disk."""
    listing = _list(root)
    return _hash_files(root, listing.files + listing.others)


def _carry(src: Path, dst: Path, listing: _Listing, as_written: bool) -> None:
    """Put the folder ``src`` of the current out/ (listed as ``listing``) into the staged
    tree at ``dst``, each file as a hard link where that changes nothing a copy would keep:
    the file has no other link (a link from outside out/ would otherwise see, and change,
    the new tree), and the file system allows links; else as a copy.

    ``as_written``: the files were checked to be as a run writes them (one link, the
    default mode), and the folders are made with the default mode, as a run makes them;
    otherwise (a service kept by ``--spec``) each file's links are checked here and each
    folder keeps its mode."""
    for rel in ("", *listing.folders):
        folder = os.path.join(dst, rel)
        os.mkdir(folder)
        if not as_written:
            mode = stat.S_IMODE(os.stat(os.path.join(src, rel)).st_mode)
            if mode != _FOLDER_MODE:
                os.chmod(folder, mode)
    for rel in listing.files:
        source, target = os.path.join(src, rel), os.path.join(dst, rel)
        try:
            if not as_written and os.lstat(source).st_nlink != 1:
                raise FileExistsError  # linked from elsewhere too: copy it
            os.link(source, target, follow_symlinks=False)
        except OSError:
            shutil.copy2(source, target)
    for rel in listing.others:  # a link a user made: its target's bytes, as before
        shutil.copy2(os.path.join(src, rel), os.path.join(dst, rel))


def _umask() -> int:
    """Return this process's umask (read by setting it, and setting it back)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _umask()
_FILE_MODE = 0o666 & ~_UMASK  # what a run gives a new file
_FOLDER_MODE = 0o777 & ~_UMASK  # and a new folder


def _as_written(path: str) -> bytes | None:
    """Return the SHA-256 of the file at ``path`` if it is as a run writes it: a regular
    file (not a link to one) with no other hard link and the default mode; else None, and
    None when it cannot be read. A FIFO put there meanwhile is never waited on."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if (
            not stat.S_ISREG(info.st_mode)
            or info.st_nlink != 1
            or stat.S_IMODE(info.st_mode) != _FILE_MODE
        ):
            return None
        digest = hashlib.sha256()
        while chunk := os.read(fd, 1 << 20):
            digest.update(chunk)
        return digest.digest()
    except OSError:
        return None
    finally:
        os.close(fd)


def _ancestors(paths: Collection[str]) -> set[str]:
    """Return every folder (relative, "" for the top) that holds one of ``paths``."""
    found: set[str] = set()
    for path in paths:
        while path:
            path = os.path.dirname(path)
            if path in found:
                break
            found.add(path)
    return found


def _folder_mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(os.lstat(path).st_mode)
    except OSError:
        return None


def holding(out: Path, wanted: dict[str, dict[str, bytes]]) -> dict[str, _Listing]:
    """Return the listing of each folder ``out/<name>/`` of ``wanted`` that is exactly what
    a run writes for ``wanted[name]`` (SHA-256 by path under ``out``), by name: the same
    regular files with the same bytes, each with no other link and the default mode, and
    no folder but theirs, each with the default mode. Any other folder (a file more or
    less, another byte, a link, an empty folder, a changed mode, a file it cannot read) is
    left out."""
    listings = {
        name: _list(out / name)
        for name in sorted(wanted)
        if (out / name).is_dir() and not (out / name).is_symlink()
    }
    paths = [f"{n}/{rel}" for n, lst in listings.items() if not lst.others for rel in lst.files]
    found = _per_file(_as_written, out, paths)
    held = {}
    for name, listing in listings.items():
        folders = {"", *listing.folders}
        if (
            not listing.others
            and {f"{name}/{rel}": found.get(f"{name}/{rel}") for rel in listing.files}
            == wanted[name]
            and folders == _ancestors(listing.files)
            and all(_folder_mode(out / name / rel) == _FOLDER_MODE for rel in folders)
        ):
            held[name] = listing
    return held


class Stage:
    """A staged output tree being filled: files are written as they are planned, and only
    their SHA-256 digests are kept, so memory does not grow with the output's size.
    ``current`` is the output folder the staged tree will replace."""

    def __init__(self, root: Path, current: Path) -> None:
        self.root = root
        self.current = current
        self.digests: dict[str, bytes] = {}  # relative path -> SHA-256 of what was planned

    def reuse(self, wanted: dict[str, dict[str, bytes]]) -> set[str]:
        """Carry each folder ``out/<name>/`` of ``wanted`` into the staged tree that holds
        exactly the regular files of ``wanted[name]`` (SHA-256 by path under ``out/``);
        return the names carried. Any other folder (edited, gone, holding a link) is left
        out, for its service to be planned again."""
        carried = {
            name: listing
            for name, listing in holding(self.current, wanted).items()
            if self.digests.keys().isdisjoint(wanted[name])
        }
        for name in carried:
            self.digests.update(wanted[name])
        _threaded(
            lambda item: _carry(self.current / item[0], self.root / item[0], item[1], True),
            list(carried.items()),
        )
        return set(carried)

    def add(self, files: Files) -> None:
        """Write ``files`` into the staged tree. Raises OutputError when a path was already
        written (two planners claiming one file), OSError when the file system refuses."""
        for rel in files:
            if rel in self.digests:
                raise OutputError(f"{rel} is planned twice")
        write_tree(self.root, files)
        self.digests.update(
            {rel: hashlib.sha256(content).digest() for rel, content in files.items()}
        )


@contextlib.contextmanager
def replacing(out: Path, only: Collection[str] | None = None) -> Iterator[Stage]:
    """Yield a Stage to write the new tree into; when the block ends without an exception,
    make ``out`` hold exactly what was added, atomically. With ``only``, replace just those
    top-level folders (services) and keep every other top-level folder and file as it is.

    The other folders are listed under the lock on ``out``'s parent, so two runs for two
    services, started together, each keep what the other wrote (listing them before the
    lock lost one in ten such pairs); the lock is held until the swap. The new tree is built
    beside ``out`` as files are added, read back and compared (by digest) with what was
    added, and only then swapped in with one rename, so a failure or a kill at any point
    leaves either the old tree or the new one, never a mix. Files not in the new tree (a
    deleted service, a removed panel) disappear in the same swap. An exception in the block
    (a spec error found while planning) removes the staged tree and is raised again. Raises
    OutputError if the staged tree is not exactly what was added, and OSError when the file
    system refuses (out/ is then as it was).
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    _refuse_read_only(out)
    with _locked(out.parent):
        # Staging folders of runs that were killed; the lock proves none is still running.
        for stale in sorted(out.parent.glob(_aside(out, "new") + "*")):
            _rmtree(stale)
        for aside in sorted(out.parent.glob(_aside(out, "old") + "*")):
            if not out.exists() and (aside / "tree").is_dir():
                os.rename(aside / "tree", out)  # killed between the fallback's two renames
            _rmtree(aside)
        keep = []
        if only is not None and out.is_dir():
            keep = sorted(p.name for p in out.iterdir() if p.name not in only)
        staging = Path(tempfile.mkdtemp(prefix=_aside(out, "new"), dir=out.parent))
        swapped = False
        try:
            stage = Stage(staging, out)
            for name in keep:
                if (out / name).is_dir():
                    _carry(out / name, staging / name, _list(out / name), False)
                    digests = {f"{name}/{k}": v for k, v in _digests(out / name).items()}
                else:  # a file the services share, such as alertmanager.yml
                    shutil.copy2(out / name, staging / name)
                    digests = {name: hashlib.sha256((out / name).read_bytes()).digest()}
                stage.digests.update(digests)
            yield stage
            if _digests(staging) != stage.digests:
                raise OutputError(f"the staged tree in {staging} differs from the plan")
            # A swapped-in tree must survive a power cut, not only a killed process.
            _flush_to_disk(staging)
            os.chmod(staging, 0o755)
            if not out.exists():
                os.rename(staging, out)
                swapped = True
            elif _exchange(staging, out):
                swapped = True
                with contextlib.suppress(OSError):  # left over, the next run removes it
                    _discard(staging)  # now holds the old tree
            else:
                _swap_by_renames(staging, out)
                swapped = True
        except BaseException:
            if not swapped:
                with contextlib.suppress(OSError):
                    _rmtree(staging)
            raise


def replace_tree(out: Path, files: Files, only: Collection[str] | None = None) -> None:
    """Make ``out`` hold exactly ``files``, atomically (see :func:`replacing`)."""
    with replacing(out, only) as stage:
        stage.add(files)
