"""YAML text of the generated files, byte for byte as PyYAML's pure-Python safe dumper
writes it (no aliases, keys in order, block style, ``|`` for multi-line strings, Unicode
kept, lines up to 10,000 characters): the bytes of every earlier release.

Three writers, fastest first, each used only where it gives those bytes:

- :func:`dump`'s own layout: PyYAML decides how each scalar is spelt (plain, quoted, a
  ``|`` block) and this module asks it once per distinct scalar, a one-entry document, and
  keeps the answer; plain ASCII strings it certainly writes as they are skip the question
  (:func:`_plain`). Mappings and sequences around the scalars follow block style's fixed
  pattern, laid out here in one walk.
- libyaml's C emitter over a node graph built in one walk (:func:`_nodes`), where a scalar
  or key is outside what the layout handles.
- PyYAML alone, where libyaml would write a string differently (:func:`_emits_alike`).

``tests/test_yaml_emitters.py`` fuzzes every path against PyYAML's own output.
"""

from __future__ import annotations

import functools
import re

import yaml

_OPTIONS = {"allow_unicode": True, "width": 10_000}
# Distinct scalars remembered: one service's files hold about a thousand; memory stays
# bounded however many services one process plans (tests/test_generation_memory.py).
_CACHED = 4096
_LONGEST_CACHED = 500  # characters; longer ones (a whole dashboard's JSON) are not kept


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True


class _FastDumper(yaml.CSafeDumper):
    """libyaml's emitter (about 10x faster); used only where it writes the same bytes."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
_FastDumper.add_representer(str, _str)


def _emits_alike(text: str, key: bool = False) -> bool:
    """True when libyaml and PyYAML's emitter write ``text`` the same way.

    They differ (found by ``tests/test_yaml_emitters.py``'s fuzzing) on characters outside
    the Basic Multilingual Plane, non-printable ones, U+FEFF, block scalars that keep
    trailing blank lines (``|+``), and empty or multi-line mapping keys.
    """
    if "\n" in text and (key or text == "\n" or text.endswith("\n\n")):
        return False
    if key and not text:
        return False
    # PyYAML writes a key of about 123 characters or more as a complex key ("? key"),
    # libyaml only past 128 bytes of UTF-8.
    if key and len(text.encode("utf-8")) > _LONGEST_KEY:
        return False
    body = text.replace("\n", "")
    # isprintable() is False for U+FEFF and surrogates; max() finds a character beyond U+FFFD.
    return body.isprintable() and (body.isascii() or max(body) <= "\ufffd")


class _NotFast(Exception):
    """``data`` holds a string or a type the fast path does not write like PyYAML."""


_SCALARS = yaml.representer.SafeRepresenter()
_STR_TAG = "tag:yaml.org,2002:str"


def _nodes(data: object) -> yaml.Node:
    """Return ``data``'s YAML node graph as PyYAML's safe representer (with ``_str``, no
    aliases, block style) builds it, in one walk and without its per-node dispatch. Raises
    _NotFast for a string the emitters write differently or a type other than a dict, list,
    str, bool, int, float or None."""
    kind = type(data)
    if kind is str:
        if not _emits_alike(data):  # type: ignore[arg-type]
            raise _NotFast
        return yaml.ScalarNode(_STR_TAG, data, style="|" if "\n" in data else None)  # type: ignore[operator]
    if kind is dict:
        pairs = []
        for key, value in data.items():  # type: ignore[attr-defined]
            if type(key) is not str or not _emits_alike(key, key=True):
                raise _NotFast
            pairs.append((yaml.ScalarNode(_STR_TAG, key), _nodes(value)))
        return yaml.MappingNode("tag:yaml.org,2002:map", pairs, flow_style=False)
    if kind is list:
        items = [_nodes(v) for v in data]  # type: ignore[attr-defined]
        return yaml.SequenceNode("tag:yaml.org,2002:seq", items, flow_style=False)
    if kind is bool:
        return _SCALARS.represent_bool(data)
    if kind is int:
        return _SCALARS.represent_int(data)
    if kind is float:
        return _SCALARS.represent_float(data)
    if data is None:
        return _SCALARS.represent_none(data)
    raise _NotFast


class NotBlock(Exception):
    """The data holds something this writer does not lay out the way PyYAML does: a key
    other than a short one-line string, a type other than dict, list, str, bool, int, float
    or None, or a scalar PyYAML would fold over several lines."""


_RESOLVER = yaml.resolver.Resolver()
# A plain scalar PyYAML writes unchanged in block context: printable ASCII that starts with
# no YAML indicator or space; ": " and " #" would start a mapping value or a comment.
_SAFE_START = re.compile(r"[A-Za-z0-9_(/$][ -~]*")
# PyYAML writes a longer plain scalar over several lines past this column (width 10,000);
# keys of 128 characters or more are written as complex keys ("? key").
_LONGEST_PLAIN = 4000
# Scalars are spelt at column 3 ("k: "); PyYAML folds one that runs past column 10,000, so a
# spelling this long may differ deeper in a document.
_LONGEST_LINE = 8000
_LONGEST_KEY = 100  # characters, and bytes of UTF-8 for libyaml (see _emits_alike)


def _plain(text: str) -> bool:
    """True when PyYAML writes ``text`` unquoted and unchanged, as a value or key."""
    return (
        len(text) <= _LONGEST_PLAIN
        and _SAFE_START.fullmatch(text) is not None
        and ": " not in text
        and " #" not in text
        and text[-1] not in ": "
        and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG
    )


def _spell(kind: type, value: object) -> str:
    """How PyYAML spells scalar ``value`` (a str, bool or None) after ``key: `` at column 0:
    one line, or a ``|`` block whose content lines sit two columns in."""
    if kind is str and _plain(value):  # type: ignore[arg-type]
        return value  # type: ignore[return-value]
    body = _slow_dump({"k": value})
    if not body.startswith("k: ") or not body.endswith("\n"):
        raise NotBlock
    text = body[3:-1]
    head = text.partition("\n")[0]
    # One line, or a | block that strips or clips its last line break: a |+ block keeps
    # blank lines that run into what follows it.
    if "\n" in text and (not head.startswith("|") or "+" in head):
        raise NotBlock
    if _OTHER_BREAKS.search(text):  # YAML line breaks PyYAML indents like "\n"
        raise NotBlock
    if len(head) > _LONGEST_LINE:  # PyYAML may fold it at another column than here
        raise NotBlock
    return text


@functools.lru_cache(maxsize=_CACHED)
def _key(key: str) -> str:
    """How PyYAML spells mapping key ``key``."""
    if len(key) <= _LONGEST_KEY and _plain(key):
        return key
    body = _slow_dump({key: 0})
    key_text = body[:-4]
    if not body.endswith(": 0\n") or "\n" in key_text or _OTHER_BREAKS.search(key_text):
        raise NotBlock
    if key_text.startswith("?"):  # a complex key
        raise NotBlock
    return key_text


def _scalar(value: object, indent: int) -> str:
    """``value`` as written after ``key: `` or ``- `` at column ``indent``."""
    kind = type(value)
    if kind not in _SCALAR_TYPES:
        raise NotBlock
    if kind is float:  # not cached: 0.0 == -0.0 would share an entry
        return _SCALARS.represent_float(value).value
    if kind is int:
        return str(value)  # SafeRepresenter.represent_int; bool is its own kind
    long = kind is str and len(value) > _LONGEST_CACHED  # type: ignore[arg-type]
    text = _spell(kind, value) if long else _cached(kind, value)
    if "\n" not in text:
        return text
    head, *lines = text.split("\n")
    pad = " " * indent
    return "\n".join([head, *(pad + line if line else line for line in lines)])


_cached = functools.lru_cache(maxsize=_CACHED)(_spell)
_OTHER_BREAKS = re.compile("[\x85\u2028\u2029]")
_SCALAR_TYPES = frozenset({str, bool, int, float, type(None)})


def _lay_out(data: object, indent: int, lead: str, out: list[str]) -> None:
    """Append the lines of non-empty ``data`` (dict or list) laid out at column ``indent``;
    its first line starts with ``lead`` (the text before it on that line, such as "- ")."""
    pad = " " * indent
    if type(data) is dict:
        for key, value in data.items():
            if type(key) is not str:
                raise NotBlock
            start = f"{lead}{_key(key)}:"
            lead = pad
            kind = type(value)
            if kind is dict and value:
                out.append(start)
                _lay_out(value, indent + 2, " " * (indent + 2), out)
            elif kind is list and value:
                out.append(start)
                _lay_out(value, indent, pad, out)  # PyYAML does not indent a mapping's list
            else:
                out.append(f"{start} {_empty_or_scalar(value, indent)}")
        return
    for item in data:  # type: ignore[attr-defined]
        kind = type(item)
        if (kind is dict or kind is list) and item:
            _lay_out(item, indent + 2, lead + "- ", out)
        else:
            out.append(f"{lead}- {_empty_or_scalar(item, indent)}")
        lead = pad


def _empty_or_scalar(value: object, indent: int) -> str:
    kind = type(value)
    if kind is dict:
        return "{}"
    if kind is list:
        return "[]"
    return _scalar(value, indent)


def dump(data: object) -> str:
    """Return ``data`` (a dict or list whose leaves are str, bool, int, float or None) as
    PyYAML's safe dumper writes it with this module's options."""
    try:
        return _lay_out_document(data)
    except NotBlock:
        return _slow_dump(data)


def _slow_dump(data: object) -> str:
    """``data`` written by libyaml from nodes, or by PyYAML where libyaml differs."""
    try:
        body = yaml.serialize(_nodes(data), Dumper=_FastDumper, **_OPTIONS)
        # Near the 10,000-column width the two emitters fold differently (libyaml does not
        # break a double-quoted string after an escape).
        if max(map(len, body.split("\n"))) > _LONGEST_LINE:
            raise _NotFast
        return body
    except _NotFast:
        return yaml.dump(
            data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, **_OPTIONS
        )


def _lay_out_document(data: object) -> str:
    """``data`` laid out by this module. Raises NotBlock where it does not write PyYAML's
    bytes."""
    kind = type(data)
    if kind is not dict and kind is not list:
        raise NotBlock
    if not data:
        return "{}\n" if kind is dict else "[]\n"
    out: list[str] = []
    _lay_out(data, 0, "", out)
    return "\n".join(out) + "\n"
