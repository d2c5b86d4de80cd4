"""``generate`` holds one service's files at a time: peak memory does not grow with the fleet.

Each service is written into the staged tree as soon as it is planned, and only a digest
per file is kept for the read-back check; the swap stays one atomic rename at the end.
"""

from __future__ import annotations

from pathlib import Path

from cli_support import SAMOKODER, run_cli_peak


def _fleet(folder: Path, count: int) -> Path:
    """Write ``count`` distinct services derived from the shipped spec (own names, jobs,
    metric prefixes and dashboard uids)."""
    specs = folder / "slo_specs"
    specs.mkdir(parents=True)
    text = SAMOKODER.read_text(encoding="utf-8")
    for i in range(count):
        (specs / f"svc{i:03d}.yaml").write_text(text.replace("samokoder", f"svc{i:03d}"))
    return specs


def _peak_mib(folder: Path, count: int) -> float:
    specs = _fleet(folder, count)
    proc, peak_kib = run_cli_peak(
        "generate", "--jobs", "1", "--spec-dir", specs, "--out", folder / "out", timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    # every service, _grafana and the shared alertmanager.yml
    assert len(list((folder / "out").iterdir())) == count + 2
    return peak_kib / 1024


def test_peak_memory_does_not_grow_with_the_number_of_services(tmp_path: Path) -> None:
    small, large = 6, 54
    growth = _peak_mib(tmp_path / "large", large) - _peak_mib(tmp_path / "small", small)
    # What one service may leave behind: its Model (about 30 KiB), a 32-byte digest and a
    # path per file (25 files), and entries of the bounded regex and label caches. Measured:
    # 0.06 MiB per service. The bound, 0.15 MiB, leaves room for the allocator, yet is far
    # below either leak this guards against: holding a service's files until the swap
    # (0.8 MiB each) or the YAML parse trees of the specs read (0.2 MiB each).
    per_service = growth / (large - small)
    assert per_service < 0.15, f"peak RSS grows {per_service:.3f} MiB per service"
