"""JSON text of the generated files, byte for byte as ``json.dumps(data, indent=2,
ensure_ascii=False)`` writes it.

With ``indent`` set, the standard library encodes in pure Python; here every leaf goes
through its C encoders (strings, and ``float.__repr__`` as it uses) and only the layout,
fixed by ``indent=2``, is Python. ``tests/test_json_text.py`` fuzzes the equality.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring  # the C function where CPython has it


def dump(data: object) -> str:
    """Return ``data`` (dicts with string keys, lists, str, int, float, bool, None) as
    ``json.dumps(data, indent=2, ensure_ascii=False)`` does. Other types go to ``json.dumps``
    itself."""
    out: list[str] = []
    try:
        _write(data, "\n", out)
    except _Other:
        return json.dumps(data, indent=2, ensure_ascii=False)
    return "".join(out)


class _Other(Exception):
    """A key or value outside the types :func:`dump` writes itself."""


def _write(value: object, newline: str, out: list[str]) -> None:
    """Append ``value``; ``newline`` is a line break followed by the current indentation."""
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(value))  # type: ignore[arg-type]
    elif kind is dict or kind is list:
        if not value:
            out.append("{}" if kind is dict else "[]")
            return
        inner = newline + "  "
        out.append(("{" if kind is dict else "[") + inner)
        for i, item in enumerate(value.items() if kind is dict else value):  # type: ignore[attr-defined]
            if i:
                out.append("," + inner)
            if kind is dict:
                key, item = item
                if type(key) is not str:
                    raise _Other
                out.append(encode_basestring(key) + ": ")
            _write(item, inner, out)
        out.append(newline + ("}" if kind is dict else "]"))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif kind is int:
        out.append(int.__repr__(value))  # type: ignore[arg-type]
    elif kind is float and math.isfinite(value):  # type: ignore[arg-type]
        out.append(float.__repr__(value))  # type: ignore[arg-type]
    else:
        raise _Other  # NaN and infinities, subclasses, other types: json.dumps decides
