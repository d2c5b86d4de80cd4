"""The cache of generated services: what a spec generated last time, so that an unchanged
spec is neither loaded nor planned again (a pre-commit hook's run over a monorepo's specs).

An entry records, for one spec file, the key of what it was generated from and what came of
it: the service's Model and the SHA-256 of each file it wrote under ``out/<service>/``. The
key is the SHA-256 of the spec's bytes, the path the spec is reported by, and
:func:`fingerprint` (this package's every file, the interpreter, and every installed
distribution's name and version). An entry is only a claim; it is used when its key is the
spec's key now and ``out/<service>/`` is exactly what a run writes for the recorded digests
(checked by :func:`output.holding`, under the output lock for ``generate``). Otherwise the
service is planned as if there were no cache. So a stale or damaged entry costs a plan,
never a wrong file: a hand-edited output file, a changed template, a new library version,
or a deleted ``out/`` each make the service planned again. The spec is parsed from the
bytes its key was computed from, so a spec saved during a run cannot pair one version's
key with another's files.

Entries live in ``$XDG_CACHE_HOME/slo-generator`` (default ``~/.cache/slo-generator``), one
folder per output folder, never in the repository. A folder that is not this user's own, or
that others may write to, is not used: an entry holds a pickled Model. Writing an entry is
best-effort; a full disk costs the next run its speed, not its output.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .spec.spec_file import Unreadable, read_bytes

if TYPE_CHECKING:
    from .spec.model import Service

FORMAT = b"slo-generator cache 1\n"  # changes with the entry's layout
_DIGEST = hashlib.sha256().digest_size


@dataclass(frozen=True)
class Entry:
    """What one spec generated: ``service`` and the SHA-256 of each of its files, keyed by
    path under ``out/`` (``<service>/...``)."""

    service: Service
    digests: dict[str, bytes]


def _feed(digest, *parts: bytes) -> None:
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)


def fingerprint(package: Path | None = None, path: Iterable[str] | None = None) -> bytes:
    """Return the SHA-256 of what generation depends on besides a spec: the path and bytes
    of every file under ``package`` (default: this package: code, templates, schema), the
    interpreter's version, and the names of the ``*.dist-info`` and ``*.egg-info`` folders
    (each an installed distribution and its version) in the folders of ``path`` (default
    ``sys.path``; a folder's own path is left out, so the working folder does not count)."""
    package = package or Path(__file__).resolve().parent
    digest = hashlib.sha256(FORMAT)
    _feed(digest, sys.version.encode(), sys.implementation.cache_tag.encode())
    for file in sorted(package.rglob("*")):
        if "__pycache__" not in file.parts and file.is_file():
            _feed(digest, file.relative_to(package).as_posix().encode(), file.read_bytes())
    for folder in sys.path if path is None else path:
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:  # a zip, a missing folder
            continue
        _feed(digest, *(n.encode() for n in names if n.endswith((".dist-info", ".egg-info"))))
    return digest.digest()


def default_folder() -> Path:
    """Return ``$XDG_CACHE_HOME/slo-generator``, else ``~/.cache/slo-generator``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "slo-generator"


def _private(folder: Path) -> bool:
    """Return True when ``folder`` is a real folder of this user that no one else may
    write to (group and others have no write bit)."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


class Cache:
    """The entries for one output folder ``out``, kept in ``root`` (a subfolder per output
    folder, named by the SHA-256 of its resolved path)."""

    def __init__(self, root: Path, out: Path) -> None:
        self.root = root
        out = out.resolve()
        self.folder = root / hashlib.sha256(os.fsencode(out)).hexdigest()[:32]
        self._fingerprint: bytes | None = None
        self.keys: dict[str, bytes] = {}  # spec source (as reported) -> key now
        self.specs: dict[str, bytes] = {}  # spec source -> the bytes keyed, to be parsed

    def key(self, source: str, spec: bytes) -> bytes:
        """Return the key of the spec ``source`` whose bytes are ``spec``."""
        if self._fingerprint is None:
            self._fingerprint = fingerprint()
        digest = hashlib.sha256(self._fingerprint)
        _feed(digest, source.encode(), spec)
        return digest.digest()

    def _file(self, source: str) -> Path:
        return self.folder / (hashlib.sha256(source.encode()).hexdigest()[:32] + ".entry")

    def lookup(self, sources: dict[str, str]) -> dict[str, Entry]:
        """Return the entry of each spec whose key matches, by source: ``sources`` maps the
        source a spec is reported by to the path to read it from. A spec that cannot be
        read has no entry (loading it reports why)."""
        found: dict[str, Entry] = {}
        usable = _private(self.root) and _private(self.folder)
        for source, path in sources.items():
            try:
                spec = read_bytes(path)
            except (OSError, Unreadable):
                continue
            self.specs[source] = spec
            key = self.keys[source] = self.key(source, spec)
            entry = self._read(self._file(source), key) if usable else None
            if entry is not None and entry.service.source == source:
                found[source] = entry
        return found

    @staticmethod
    def _read(file: Path, key: bytes) -> Entry | None:
        """Return the entry in ``file`` if it was recorded under ``key``. The key is read
        before the Model is unpickled, so a changed spec costs no import of the Model."""
        try:
            with open(file, "rb") as handle:
                head = handle.read(len(FORMAT) + 2 * _DIGEST)
                if head[: len(FORMAT) + _DIGEST] != FORMAT + key:
                    return None  # another spec's, or another layout's
                payload = handle.read()
        except OSError:
            return None
        if hashlib.sha256(payload).digest() != head[len(FORMAT) + _DIGEST :]:
            return None  # a damaged file
        try:
            entry = pickle.loads(payload)
        except Exception:  # a class renamed since: a miss, like any other
            return None
        return entry if isinstance(entry, Entry) else None

    def store(self, services: Iterable[Service], digests: dict[str, bytes]) -> None:
        """Record what each of ``services`` generated (``digests``: SHA-256 by path under
        ``out/``, as written). Services without a key (not looked up) are skipped. Best
        effort: a folder that cannot be written leaves the cache as it was."""
        try:
            for folder in (self.root, self.folder):
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not (_private(self.root) and _private(self.folder)):
                return
            for service in services:
                key = self.keys.get(service.source)
                if key is None:
                    continue
                prefix = f"{service.name}/"
                mine = {p: d for p, d in digests.items() if p.startswith(prefix)}
                payload = pickle.dumps(Entry(service, mine), pickle.HIGHEST_PROTOCOL)
                self._write(self._file(service.source), key, payload)
        except OSError:
            return

    def _write(self, file: Path, key: bytes, payload: bytes) -> None:
        """Replace ``file`` atomically: the format, ``key``, the SHA-256 of ``payload``, then
        ``payload`` (the pickled Entry)."""
        fd, tmp = tempfile.mkstemp(prefix=".", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(FORMAT + key + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, file)
        except BaseException:
            os.unlink(tmp)
            raise

    def prune(self, sources: Iterable[str]) -> None:
        """Remove the entries of specs other than ``sources`` (after a run over every spec:
        a spec deleted or renamed since)."""
        keep = {self._file(s).name for s in sources}
        try:
            for file in self.folder.iterdir():
                if file.name not in keep:
                    file.unlink()
        except OSError:
            return
