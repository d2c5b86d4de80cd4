"""YAML parsing for tests that read generated files: libyaml's C parser (PyYAML's
``CSafeLoader``). The generated suites and rule files are large, and PyYAML's pure-Python
parser was most of some tests' time (the inhibition test: 31 of its 44 profiled seconds).
Tests about the YAML itself (``test_yaml_emitters``, ``test_yaml_versions``, the bad-input
tests) keep PyYAML's own parser."""

from __future__ import annotations

import yaml


def load_yaml(text: str | bytes) -> object:
    """Parse one YAML document as ``yaml.safe_load`` does, with libyaml."""
    return yaml.load(text, Loader=yaml.CSafeLoader)
