"""The C library, for the Linux calls Python's standard library lacks (``renameat2``,
``syncfs``, ``prctl``).

Opened as the running program's own symbols (``dlopen(NULL)``), which hold the C library
CPython is linked with: ``ctypes.util.find_library`` would start ``ldconfig -p`` in every
process, a few milliseconds each. ``errno`` is kept per call (``ctypes.get_errno``)."""

from __future__ import annotations

import ctypes

LIBC = ctypes.CDLL(None, use_errno=True)
