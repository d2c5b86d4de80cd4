"""Read the plain rule files of a generated ``prometheus/`` folder, whichever it has.

A service's rules are split by concern and kind (``generator/prometheus/rule_files.py``):
``recording_rules.yml``, ``slo_recording_rules.yml``, ``alerts.yml``, ``slo_alerts.yml``.
Tests that ask for "the alerts" or "the recording rules" read every file of that kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from yaml_io import load_yaml

from generator.prometheus.rule_files import ALERT_FILES, FILES, RECORDING_FILES


def groups_in(folder: Path, names: tuple[str, ...] = FILES) -> list[dict]:
    """Every rule group of the files ``names`` in ``folder``, in evaluation order."""
    return [
        g
        for name in FILES
        if name in names and (folder / name).is_file()
        for g in load_yaml((folder / name).read_text(encoding="utf-8"))["groups"]
    ]


def rules_in(folder: Path, names: tuple[str, ...] = FILES) -> list[dict]:
    """Every rule of the files ``names`` in ``folder``, in evaluation order."""
    return [r for g in groups_in(folder, names) for r in g["rules"]]


def alert_rules(folder: Path) -> list[dict]:
    """Every alerting rule in ``folder``: ``alerts.yml`` and ``slo_alerts.yml``."""
    return rules_in(folder, ALERT_FILES)


def recording_rules(folder: Path) -> list[dict]:
    """Every recording rule in ``folder``: ``recording_rules.yml`` and its SLO twin."""
    return rules_in(folder, RECORDING_FILES)


def write_recording_files(files: Mapping[str, bytes], service: str, folder: Path) -> list[str]:
    """Write the recording files of ``service`` from its generated ``files`` (keyed as under
    ``out/``) into ``folder``; return their names, for a suite's ``rule_files``."""
    names = [n for n in RECORDING_FILES if f"{service}/prometheus/{n}" in files]
    for name in names:
        (folder / name).write_bytes(files[f"{service}/prometheus/{name}"])
    return names
