"""Read a spec file's bytes, refusing what is not a spec file (no YAML is imported here:
the cache of generated services keys a spec by these bytes before anything is parsed)."""

from __future__ import annotations

import os
import stat

MAX_BYTES = 2_000_000


class Unreadable(Exception):
    """A spec path that is not a regular file of at most ``MAX_BYTES``; the message says why."""


def read_bytes(path: str | os.PathLike) -> bytes:
    """Return the bytes of the regular file at ``path``, reading at most ``MAX_BYTES + 1``.

    The type and size are checked on the opened descriptor before anything is read, so a
    FIFO never blocks, ``/dev/zero`` never grows, and a 300 MB file costs one ``fstat``.
    Raises :class:`Unreadable` for anything else (and OSError when it cannot be opened).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise Unreadable(f"{kind}; a spec is a YAML file")
        if info.st_size > MAX_BYTES:
            raise Unreadable(f"the file is larger than {MAX_BYTES // 1_000_000} MB")
        chunks, size = [], 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_BYTES:  # grew while being read
            raise Unreadable(f"the file is larger than {MAX_BYTES // 1_000_000} MB")
        return b"".join(chunks)
    finally:
        os.close(fd)
