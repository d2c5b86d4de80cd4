"""Write an imported spec as YAML that the spec loader reads back to the same data."""

from __future__ import annotations

import re

import yaml

# Text that YAML 1.1 (PyYAML) reads as text but YAML 1.2 as a number or boolean: PyYAML would
# write it plainly, and the spec loader refuses such ambiguous scalars, so it is quoted.
_AMBIGUOUS = re.compile(
    r"[-+]?[0-9][0-9_:.]*|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)"
    r"([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and value == value.strip(" ") and "\n\n" not in value.strip("\n"):
        style: str | None = "|"  # a multi-line query reads as written
    elif _AMBIGUOUS.fullmatch(value):
        style = '"'
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(spec: dict, origin: str) -> str:
    """Return ``spec`` as YAML text, keys in the order given, headed by a comment naming
    ``origin`` (the imported file and its format)."""
    body = yaml.dump(
        spec,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=10_000,
    )
    head = (
        "# yaml-language-server: $schema=../generator/spec/schema.json\n"
        f"# Imported from {origin} by `python -m generator import`.\n"
        "# Review it and keep it as slo_specs/<service>.yaml: it is the source from now on.\n"
    )
    return head + body
