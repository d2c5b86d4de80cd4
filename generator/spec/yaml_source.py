"""Read a YAML spec into plain data plus the line and column of every value.

PyYAML's constructors silently keep the last of duplicate keys and expand aliases without
limit, so this module builds the data from the composed node tree itself.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import yaml

from .errors import Path, SpecError, format_path
from .spec_file import MAX_BYTES

try:  # the C composer is much faster; fall back to pure Python where it is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_NODES = 200_000  # far above any real spec; bounds alias expansion ("billion laughs")


@dataclass(frozen=True)
class Source:
    """A parsed spec: its data and where each YAML path came from."""

    file: str
    data: object
    positions: dict[Path, tuple[int, int]]
    text: str = ""  # the file's text, to point inside a scalar (see ``error_at``)
    spans: dict[Path, tuple[int, int]] = field(default_factory=dict)  # scalars' text spans

    def error_at(self, path: Path, offset: int, message: str) -> SpecError:
        """Return a SpecError at the character ``offset`` of the string value at ``path``, as
        it sits in the file (inside quotes, a block scalar's lines, a folded line), or at the
        scalar's start when that text cannot be found verbatim (an escape in a quoted string).

        The value's text from ``offset`` to the end of its line is looked up in the scalar's
        source span, at the same occurrence as in the value."""
        value = self.data
        for part in path:
            value = value[part]  # type: ignore[index]
        span = self.spans.get(tuple(path))
        if span is None or not isinstance(value, str):
            return self.error(path, message)
        raw = self.text[span[0] : span[1]]
        if not value.strip():
            return self.error(path, message)
        offset = max(offset, len(value) - len(value.lstrip()))  # a block's first line
        end = value.find("\n", offset)
        needle = value[offset : end if end >= 0 else len(value)][:40]
        nth = _occurrences(value, needle, offset)
        found, at = -1, 0
        for _ in range(nth + 1):
            found = raw.find(needle, at)
            if found < 0:  # not verbatim (an escape): the value's first character
                found = len(raw) - len(raw.lstrip())
                break
            at = found + 1
        index = span[0] + found
        line = self.text.count("\n", 0, index) + 1
        column = index - (self.text.rfind("\n", 0, index) + 1) + 1
        return SpecError(self.file, line, column, format_path(path), message)

    def error(self, path: Path, message: str) -> SpecError:
        """Return a SpecError located at the nearest known position of ``path``."""
        probe = tuple(path)
        while probe not in self.positions and probe:
            probe = probe[:-1]
        line, column = self.positions.get(probe, (1, 1))
        return SpecError(self.file, line, column, format_path(path), message)


def _occurrences(text: str, needle: str, before: int) -> int:
    """Return how many times ``needle`` starts in ``text`` before index ``before``."""
    count, at = 0, text.find(needle)
    while 0 <= at < before:
        count, at = count + 1, text.find(needle, at + 1)
    return count


class _TooLarge(Exception):
    pass


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.positions: dict[Path, tuple[int, int]] = {}
        self.spans: dict[Path, tuple[int, int]] = {}
        self.errors: list[SpecError] = []
        self.count = 0

    def _at(self, node: yaml.Node, path: Path, message: str) -> None:
        mark = node.start_mark
        self.errors.append(
            SpecError(self.file, mark.line + 1, mark.column + 1, format_path(path), message)
        )

    def build(self, node: yaml.Node, path: Path) -> object:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        self.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            out: dict[str, object] = {}
            seen: dict[str, yaml.Node] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self._at(
                        key_node, path, "merge keys (<<) are not supported; write the keys out"
                    )
                    continue
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _PLAIN_TAGS:
                    self._at(key_node, path, "keys must be plain text, not a list or mapping")
                    continue
                key = _construct(key_node)
                if not isinstance(key, str):
                    self._at(key_node, path, f"keys must be strings, not {key!r}")
                    continue
                if key in seen:
                    first = seen[key].start_mark.line + 1
                    self._at(
                        key_node, (*path, key), f"duplicate key {key!r} (first at line {first})"
                    )
                    continue
                seen[key] = key_node
                self.positions[(*path, key)] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                out[key] = self.build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag not in _PLAIN_TAGS:
            # Tags such as !!python/object or !!binary have no meaning in a spec; reject them
            # here, with a position, rather than let a constructor fail without one.
            self._at(node, path, f"unsupported YAML tag {node.tag!r}; write a plain value")
            return None
        self.spans[path] = (node.start_mark.index, node.end_mark.index)
        ambiguous = _yaml_1_1_only(node)
        if ambiguous:
            self._at(node, path, ambiguous)
            return None
        try:
            value = _construct(node)
        except (yaml.constructor.ConstructorError, ValueError) as exc:
            # e.g. a date such as 2024-13-45 that matches YAML's timestamp pattern
            reason = getattr(exc, "problem", None) or str(exc)
            self._at(node, path, f"{node.value!r} cannot be read: {reason}")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            # .nan slips through every JSON Schema bound (all comparisons are false).
            self._at(node, path, f"{node.value!r} is not a finite number")
        return value


_constructor = yaml.constructor.SafeConstructor()


def _construct(node: yaml.Node) -> object:
    """Return a scalar node's value. PyYAML's constructor remembers every node it built, so
    one shared constructor would keep every node of every spec read alive (0.2 MiB a spec):
    the memo is dropped after each call."""
    try:
        return _constructor.construct_object(node)
    finally:
        _constructor.constructed_objects.pop(node, None)


_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")
)


# Plain scalars that read the same in YAML 1.1 (PyYAML) and in YAML 1.2's core schema
# (what most other YAML tools, and a reviewer, assume). A 1.1 number or boolean written any
# other way changes meaning between the two, so it is refused rather than guessed.
_SAME_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)|0x[0-9a-fA-F]+")
_SAME_FLOAT = re.compile(
    r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
_SAME_BOOL = frozenset(("true", "True", "TRUE", "false", "False", "FALSE"))
# YAML 1.2 core numbers that YAML 1.1 reads as text (08, 1e3, 0o17).
_NUMBER_1_2 = re.compile(
    r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
)


def _yaml_1_1_only(node: yaml.ScalarNode) -> str | None:
    """Return why a plain scalar reads differently in YAML 1.1 and 1.2, or None.

    ``010`` is 8 in YAML 1.1 (octal) and 10 in 1.2; ``1:30`` is 90 (base 60) in 1.1 and
    text in 1.2; ``1_000`` is 1000 in 1.1 and text in 1.2; ``yes``/``on`` are true in 1.1
    and text in 1.2.
    """
    if node.style:  # quoted or block text: a string in both (plain: None, or "" from libyaml)
        return None
    text = node.value
    tag = node.tag.rsplit(":", 1)[-1]
    if tag == "str" and _NUMBER_1_2.fullmatch(text):
        return (
            f"{text} is text in YAML 1.1 but a number in YAML 1.2; write the number plainly "
            "(no leading zeros; 1000.0 rather than 1e3), or quote it if text is meant"
        )
    if tag == "int" and not _SAME_INT.fullmatch(text):
        value = _construct(node)
        if re.fullmatch(r"[-+]?0[0-7]+", text):
            return (
                f"{text} is {value} in YAML 1.1 (octal) but {int(text, 10)} in YAML 1.2; "
                "write the number you mean without leading zeros"
            )
        how = " (base 60)" if ":" in text else ""
        return (
            f"{text} is {value} in YAML 1.1{how} but text in YAML 1.2; "
            "write the number plainly, or quote it if text is meant"
        )
    if tag == "float" and not _SAME_FLOAT.fullmatch(text):
        return (
            f"{text} is {_construct(node)} in YAML 1.1 but text in "
            "YAML 1.2; write the number plainly, or quote it if text is meant"
        )
    if tag == "bool" and text not in _SAME_BOOL:
        word = "true" if _construct(node) else "false"
        return (
            f"{text} is {word} in YAML 1.1 but text in YAML 1.2; "
            f"write {word}, or quote it if text is meant"
        )
    return None


def kind_of(value: object) -> str:
    """Return the YAML word for the kind of ``value``: ``a mapping``, ``a list``, ``text``."""
    if isinstance(value, bool):
        return "true/false"
    kinds = ((dict, "a mapping"), (list, "a list"), (str, "text"), (int, "a number"))
    kinds += ((float, "a number"), (type(None), "nothing (null)"))
    return next((word for cls, word in kinds if isinstance(value, cls)), "a date")


def read(file: str, text: str) -> tuple[Source | None, list[SpecError]]:
    """Parse ``text``; return the Source, or None and the reasons it could not be read."""
    sources, errors = _read(file, text, yaml.compose)
    if errors:
        return None, errors
    if not isinstance(sources[0].data, dict):
        found = kind_of(sources[0].data)
        why = f"a spec is a mapping of fields; found {found}"
        return None, [SpecError(file, 1, 1, "(top level)", why)]
    return sources[0], []


def read_documents(file: str, text: str) -> tuple[list[Source], list[SpecError]]:
    """Parse every document of a multi-document YAML stream (``---`` between documents);
    return one Source per non-empty document (lines count from the file's start), or no
    Source and the reasons the stream could not be read. Read like a spec: duplicate keys,
    unsafe tags and YAML 1.1-only scalars are refused."""
    return _read(file, text, lambda t, Loader: [n for n in yaml.compose_all(t, Loader) if n])


def _read(file: str, text: str, compose) -> tuple[list[Source], list[SpecError]]:
    """Return the Sources that ``compose`` (``yaml.compose`` or a list of documents) finds
    in ``text``, or none and every reason it could not be read."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return [], [SpecError(file, 1, 1, "(top level)", "the file is larger than 2 MB")]
    if "\t" in text:
        line = text[: text.index("\t")].count("\n") + 1
        col = text.index("\t") - (text.rfind("\n", 0, text.index("\t")) + 1) + 1
        return [], [
            SpecError(file, line, col, "(top level)", "tab character; indent YAML with spaces")
        ]
    try:
        nodes = compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        # "while parsing a flow mapping, did not find expected ',' or '}'" reads better than
        # the problem alone; both come from PyYAML and are one line each.
        reason = ", ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        return [], [SpecError(file, line, col, "(top level)", f"invalid YAML: {reason}")]
    except yaml.reader.ReaderError as exc:
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        line = text[: exc.position].count("\n") + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        return [], [
            SpecError(file, line, col, "(top level)", f"control character U+{code:04X} in the text")
        ]
    except yaml.YAMLError as exc:
        return [], [SpecError(file, 1, 1, "(top level)", f"invalid YAML: {exc}")]
    if not isinstance(nodes, list):
        nodes = [nodes] if nodes is not None else []
    if not nodes:
        return [], [SpecError(file, 1, 1, "(top level)", "the file is empty; expected a spec")]
    sources: list[Source] = []
    errors: list[SpecError] = []
    for node in nodes:
        builder = _Builder(file)
        try:
            data = builder.build(node, ())
        except _TooLarge:
            why = (
                f"the document expands to more than {MAX_NODES} values "
                "(aliases expanding exponentially?)"
            )
            return [], [SpecError(file, 1, 1, "(top level)", why)]
        except (yaml.constructor.ConstructorError, ValueError) as exc:
            return [], [SpecError(file, 1, 1, "(top level)", f"invalid YAML value: {exc}")]
        errors.extend(builder.errors)
        sources.append(Source(file, data, builder.positions, text, builder.spans))
    return ([], errors) if errors else (sources, [])
