"""Spec problems as values: every check returns them, only the CLI prints them."""

from __future__ import annotations

import re
from dataclasses import dataclass

Path = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")  # \Z: "$" also matches before a final newline


def format_path(path: Path) -> str:
    """Return a YAML path the way a reader writes it: ``slos[0].objective``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.match(part):
            # A key with spaces, dots or a newline is quoted, so the error stays one line.
            out += f"[{part!r}]"
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


@dataclass(frozen=True, order=True)
class SpecError:
    """One problem in a spec file, located at ``file:line:column``."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.path}: {self.message}"


def closest(word: str, choices: list[str], cutoff: float = 0.6) -> str | None:
    """Return the choice a misspelt ``word`` most likely meant (difflib's ratio of at least
    ``cutoff``), or None. difflib is imported here, on a spec's error path only."""
    import difflib

    found = difflib.get_close_matches(word, choices, n=1, cutoff=cutoff)
    return found[0] if found else None


class SpecInvalid(Exception):
    """Raised with every problem found in one or more specs."""

    def __init__(self, errors: list[SpecError]):
        super().__init__(f"{len(errors)} problem(s) in the spec")
        self.errors = sorted(set(errors))
