"""Serialisation (one place) and the atomic swap of the output tree."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
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
    """Write ``files`` under ``root`` (which must not exist yet)."""
    for rel, content in sorted(files.items()):
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def read_tree(root: Path) -> Files:
    """Return every file under ``root`` as relative path -> bytes."""
    if not root.is_dir():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); return False where unsupported."""
    fn = getattr(_libc, "renameat2", None)
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def replace_tree(out: Path, files: Files, keep: Iterable[str] = ()) -> None:
    """Make ``out`` hold exactly ``files`` plus the subtrees named in ``keep``, atomically.

    The new tree is built beside ``out`` and swapped in with one rename, so a crash at any
    point leaves either the old tree or the new one, never a mix. Files not in the new tree
    (a deleted service, a removed panel) disappear in the same swap.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".out.new-", dir=out.parent))
    try:
        for name in keep:
            if (out / name).is_dir():
                shutil.copytree(out / name, staging / name)
        write_tree(staging, files)
        os.chmod(staging, 0o755)
        if out.exists() and _exchange(staging, out):
            shutil.rmtree(staging)  # now holds the old tree
            return
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=".out.old-", dir=out.parent))
            os.rename(out, old / "out")
            os.rename(staging, out)
            shutil.rmtree(old)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
