"""YAML for tests: parsing generated files fast, and writing specs as a user would.

``load_yaml`` parses with libyaml's C parser (PyYAML's ``CSafeLoader``). The generated suites
and rule files are large, and PyYAML's pure-Python parser was most of some tests' time (the
inhibition test: 31 of its 44 profiled seconds). Tests about the YAML itself
(``test_yaml_emitters``, ``test_yaml_versions``, the bad-input tests) keep PyYAML's parser.

``spec_text`` writes a drawn spec as a user would have to: PyYAML (YAML 1.1) writes a string
such as ``08`` or ``1e3`` plain, which YAML 1.2 reads as a number, so the loader refuses it
(``test_yaml_versions``); written by hand, such text is quoted.
"""

from __future__ import annotations

import io

import yaml
from ruamel.yaml import YAML

_YAML_1_2 = YAML(typ="safe", pure=True)


def load_yaml(text: str | bytes) -> object:
    """Parse one YAML document as ``yaml.safe_load`` does, with libyaml."""
    return yaml.load(text, Loader=yaml.CSafeLoader)


def _text_in_1_2(value: str) -> bool:
    """Whether ``value``, written plain, is text in YAML 1.2 (ruamel.yaml, the reference)."""
    try:
        return isinstance(_YAML_1_2.load(io.StringIO(value)), str)
    except Exception:  # not a plain scalar at all: PyYAML quotes it anyway
        return True


class _SpecDumper(yaml.SafeDumper):
    def represent_str(self, data: str) -> yaml.ScalarNode:
        if data and not _text_in_1_2(data):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="'")
        return super().represent_str(data)


_SpecDumper.add_representer(str, _SpecDumper.represent_str)


def spec_text(data: object) -> str:
    """Return ``data`` (a drawn spec) as YAML, in its key order, with text that YAML 1.2
    would read as another type quoted."""
    return yaml.dump(data, Dumper=_SpecDumper, sort_keys=False, allow_unicode=True)
