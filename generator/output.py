"""Serialisation (one place) and the atomic swap of the output tree."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml

Files = dict[str, bytes]  # relative path -> content


def header(source: str, comment: str = "#") -> str:
    """Return the provenance header every generated text file starts with."""
    return (
        f"{comment} Generated from {source} by `make generate`. DO NOT EDIT.\n"
        f"{comment} Change the spec and regenerate; review the diff.\n"
    )


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(data: object, source: str) -> bytes:
    """Return ``data`` as YAML with the generated-file header; key order is kept."""
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=10_000,
        default_flow_style=False,
    )
    return (header(source) + body).encode("utf-8")


def to_json(data: object) -> bytes:
    """Return ``data`` as indented JSON with a trailing newline (JSON has no comments)."""
    return (json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")


def write_tree(root: Path, files: Files) -> None:
    """Write ``files`` under ``root`` and flush each one to disk before returning."""
    for rel, content in sorted(files.items()):
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(content)
            handle.flush()
            # A swapped-in tree must survive a power cut, not only a killed process.
            os.fsync(handle.fileno())


def read_tree(root: Path) -> Files:
    """Return every file under ``root`` as relative path -> bytes."""
    if not root.is_dir():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


class OutputError(RuntimeError):
    """The staged tree is not what was planned; out/ was left as it was."""


_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
# renameat2 answers these when the kernel or the file system cannot exchange.
_NO_EXCHANGE = frozenset({errno.ENOSYS, errno.EINVAL, errno.ENOTSUP})


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
    if err in _NO_EXCHANGE:
        return False
    raise OSError(err, os.strerror(err), str(a))


def _swap_by_renames(staging: Path, out: Path) -> None:
    """Replace ``out`` with ``staging`` by two renames, restoring ``out`` if the second fails.

    Used only where renameat2 cannot exchange; a kill between the renames leaves out/ absent
    (never mixed) with the old tree in a ``.<out>.old-*`` folder beside it.
    """
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rename(out, old / "tree")
    try:
        os.rename(staging, out)
    except BaseException:
        os.rename(old / "tree", out)
        old.rmdir()
        raise
    shutil.rmtree(old)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (no lock file is created; released on exit/kill)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def replace_tree(out: Path, files: Files, keep: Iterable[str] = ()) -> None:
    """Make ``out`` hold exactly ``files`` plus the subtrees named in ``keep``, atomically.

    The new tree is built beside ``out``, read back and compared with what was planned, and
    only then swapped in with one rename, so a failure or a kill at any point leaves either
    the old tree or the new one, never a mix. Files not in the new tree (a deleted service,
    a removed panel) disappear in the same swap. Raises OutputError if the staged tree is
    not exactly what was planned.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out.parent):
        # Staging folders of runs that were killed; the lock proves none is still running.
        for stale in sorted(out.parent.glob(f".{out.name}.new-*")):
            shutil.rmtree(stale, ignore_errors=True)
        for aside in sorted(out.parent.glob(f".{out.name}.old-*")):
            if not out.exists() and (aside / "tree").is_dir():
                os.rename(aside / "tree", out)  # killed between the fallback's two renames
            shutil.rmtree(aside, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
        try:
            expected = dict(files)
            for name in keep:
                if (out / name).is_dir():
                    shutil.copytree(out / name, staging / name)
                    expected.update({f"{name}/{k}": v for k, v in read_tree(out / name).items()})
            write_tree(staging, files)
            if read_tree(staging) != expected:
                raise OutputError(f"the staged tree in {staging} differs from the plan")
            os.chmod(staging, 0o755)
            if not out.exists():
                os.rename(staging, out)
            elif _exchange(staging, out):
                shutil.rmtree(staging)  # now holds the old tree
            else:
                _swap_by_renames(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
