"""Every malformed spec in tests/fixtures/bad/ gets exactly its expected error.

Each case runs the command line twice, ``validate`` and ``generate`` into a copy of a real
out/ tree: in this process (``run_cli_in_process``: the same ``main``, its exit status and
output; 0.35 s of interpreter and imports saved per run, over 280 runs), while the tests
below the corpus run the real ``python -m generator`` in a subprocess. Both must exit 2,
print exactly the lines in the sibling ``.expect`` file (``line:column: yaml.path:
sentence``, prefixed with the spec's path), print no traceback, and leave the output folder
(and its parent) byte-identical.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_support import CHECKOUT, ROOT, SAMOKODER, run_cli, run_cli_in_process, run_cli_peak, tree

BAD = ROOT / "tests" / "fixtures" / "bad"
CASES = sorted(BAD.glob("*.yaml"))
SUMMARY = "problem(s); nothing was written."


def expected_lines(spec: Path) -> list[str]:
    """Return the exact stderr lines a bad spec must produce."""
    rel = spec.relative_to(ROOT)
    lines = spec.with_suffix(".expect").read_text(encoding="utf-8").splitlines()
    return [f"{rel}:{line}" for line in lines] + [f"{len(lines)} {SUMMARY}"]


@pytest.fixture(scope="module")
def real_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return an out/ tree generated from two real specs (the one bad cases must not touch)."""
    out = tmp_path_factory.mktemp("real") / "out"
    proc = run_cli("generate", "--spec", SAMOKODER, "--spec", CHECKOUT, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert len(tree(out)) > 4
    return out


def test_the_corpus_is_large_and_every_case_has_an_expectation() -> None:
    assert len(CASES) >= 40
    assert sorted(p.stem for p in BAD.glob("*.expect")) == [p.stem for p in CASES]
    for case in CASES:
        lines = case.with_suffix(".expect").read_text(encoding="utf-8").splitlines()
        assert lines, f"{case.name}: empty .expect"
        for line in lines:
            line_no, column, path, sentence = line.split(":", 3)
            assert int(line_no) >= 1 and int(column) >= 1, line
            assert path.strip() and len(sentence.strip()) > 10, line


@pytest.mark.parametrize("spec", CASES, ids=[p.stem for p in CASES])
def test_validate_reports_the_exact_error(spec: Path) -> None:
    proc = run_cli_in_process("validate", "--spec", spec.relative_to(ROOT))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == expected_lines(spec)


@pytest.mark.parametrize("spec", CASES, ids=[p.stem for p in CASES])
def test_generate_leaves_out_byte_identical(spec: Path, real_out: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(real_out, out)
    before = tree(tmp_path)
    proc = run_cli_in_process("generate", "--spec", spec.relative_to(ROOT), "--out", out)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.splitlines() == expected_lines(spec)
    # The parent too: no staging folder may be left beside out/.
    assert tree(tmp_path) == before


def test_a_bad_spec_among_good_ones_writes_nothing(real_out: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(real_out, out)
    before = tree(tmp_path)
    bad = BAD / "35-semantic-unknown-metric.yaml"
    proc = run_cli("generate", "--spec", SAMOKODER, "--spec", bad, "--out", out)
    assert proc.returncode == 2
    assert expected_lines(bad)[0] in proc.stderr.splitlines()
    assert tree(tmp_path) == before


def test_two_specs_claiming_one_service_are_rejected(tmp_path: Path) -> None:
    twin = tmp_path / "twin.yaml"
    twin.write_bytes(CHECKOUT.read_bytes())
    proc = run_cli("validate", "--spec", CHECKOUT, "--spec", twin)
    assert proc.returncode == 2
    assert "'checkout' is also the service of" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("service: shop\ndescription: '" + "x" * 3_000_000 + "'\n", encoding="utf-8")
    proc = run_cli("validate", "--spec", big)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == f"{big}:1:1: (top level): the file is larger than 2 MB"


def test_a_missing_spec_file_is_a_clean_error(tmp_path: Path) -> None:
    proc = run_cli("validate", "--spec", tmp_path / "nope.yaml")
    assert proc.returncode == 2
    assert "nope.yaml:1:1: (top level): cannot read: No such file or directory" in proc.stderr
    assert "Traceback" not in proc.stderr


BOMB_PROBE = textwrap.dedent(
    """
    import resource, sys
    from generator.spec import yaml_source
    from generator.spec.errors import SpecInvalid
    from generator.spec.loader import load
    built = 0
    build = yaml_source._Builder.build
    def counting(self, node, path):
        global built
        built += 1
        return build(self, node, path)
    yaml_source._Builder.build = counting
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        load(sys.argv[1])
    except SpecInvalid as exc:
        print(exc.errors[0].message)
    print(built)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
    """
)


def test_billion_laughs_is_rejected_after_bounded_work_and_memory() -> None:
    """10 levels of 10 aliases: 10**10 values if expanded. The loader must stop early.

    The work is counted in values built, not seconds, so a loaded machine cannot fail it:
    the loader stops at its node bound, ``MAX_NODES`` (200,000), five orders of magnitude
    short of the expansion."""
    bomb = BAD / "11-yaml-billion-laughs.yaml"
    assert bomb.stat().st_size < 1000
    proc = subprocess.run(
        [sys.executable, "-c", BOMB_PROBE, str(bomb)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    message, built, grown_kib = proc.stdout.splitlines()
    assert "expands to more than" in message
    assert int(built) <= 200_001, f"built {built} values"
    assert int(grown_kib) < 100 * 1024, f"peak memory grew by {grown_kib} KiB"


HOSTILE = ROOT / "tests" / "fixtures" / "hostile" / "literal-text.yaml"


def test_template_like_text_renders_literally_in_real_prometheus(tmp_path: Path) -> None:
    """`{{`, quotes, backslashes, newlines and non-ASCII reach the alert exactly as written,
    and so does a runbook URL with `$`, quotes and percent-encoded braces (raw braces are
    refused: fixtures 98 and 99).

    The expected annotations are the spec's raw strings, checked by promtool (both versions)
    rendering the generated rules with Prometheus's own template engine.
    """
    import yaml

    from generator import tools

    raw = yaml.safe_load(HOSTILE.read_text(encoding="utf-8"))
    row = raw["thresholds"][0]
    assert "{{" in row["summary"] and "\n" in row["description"]
    out = tmp_path / "out"
    proc = run_cli("generate", "--spec", HOSTILE.relative_to(ROOT), "--out", out)
    assert proc.returncode == 0, proc.stderr
    rules = out / "literal-text" / "prometheus"
    suite = {
        "rule_files": [str(rules / "recording_rules.yml"), str(rules / "alerts.yml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'lit_inflight_requests{job="lit"}', "values": "5+0x30"}
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "10m",
                        "alertname": row["alert"],
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "job": "lit",
                                    "service": "literal-text",
                                    "severity": "warning",
                                    "team": raw["labels"]["team"],
                                },
                                "exp_annotations": {
                                    "summary": row["summary"],
                                    # The text ends without a full stop, so one is added.
                                    "description": row["description"]
                                    + ". Now 5, above the warning threshold of 1.",
                                    "runbook_url": row["runbook_url"],
                                },
                            }
                        ],
                    }
                ],
            }
        ],
    }
    test_file = tmp_path / "literal_test.yml"
    test_file.write_text(yaml.safe_dump(suite, allow_unicode=True), encoding="utf-8")
    for promtool in tools.promtools():
        result = tools.run(promtool, "test", "rules", test_file)
        assert result.returncode == 0, f"{promtool}:\n{result.stdout}{result.stderr}"
        lint = tools.run(
            promtool, "check", "rules", "--lint=all", "--lint-fatal", *rules.glob("*.yml")
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize("kind", ["fifo", "dev-zero-symlink", "sparse-300mb", "just-over-2mb"])
def test_a_spec_path_is_checked_before_it_is_read(kind: str, tmp_path: Path) -> None:
    """A FIFO (would block forever), a symlink to /dev/zero (would grow without end) and a
    300 MB file (would cost its size in memory) are refused from their type and size
    alone: exit 2, a one-line reason at 1:1, no traceback, bounded memory. The timeout
    turns a hang into a failure."""
    import os

    spec = tmp_path / "spec.yaml"
    if kind == "fifo":
        os.mkfifo(spec)
        want = "not a regular file"
    elif kind == "dev-zero-symlink":
        spec.symlink_to("/dev/zero")
        want = "not a regular file"
    elif kind == "sparse-300mb":
        with open(spec, "wb") as f:
            f.truncate(300 * 1024 * 1024)
        want = "larger than 2 MB"
    else:  # just over the bound, as a real file: the size check, not the reader, refuses it
        spec.write_bytes(b"# " + b"x" * 2_000_000 + b"\n")
        want = "larger than 2 MB"
    proc, peak = run_cli_peak("validate", "--spec", spec, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{spec}:1:1: (top level): " in proc.stderr and want in proc.stderr, proc.stderr
    assert peak < 200 * 1024, f"peak {peak} KiB"


@pytest.mark.parametrize("given", ["--spec", "--spec-dir", "import sloth", "import openslo"])
def test_a_spec_file_name_that_is_not_utf8_is_refused(given: str, tmp_path: Path) -> None:
    """Linux allows any bytes in a file name; a spec's (or an imported file's) name goes into
    the header of every file made from it, so a name that is not UTF-8 is refused, shown
    with its bytes escaped, by every command that takes a file."""
    import os

    folder = tmp_path / "specs"
    folder.mkdir()
    spec = folder / os.fsdecode(b"shop\xff.yaml")
    spec.write_bytes(SAMOKODER.read_bytes())
    out = tmp_path / "out"
    if given.startswith("import"):
        proc = run_cli(*given.split(), spec, "-o", out)
    else:
        proc = run_cli("generate", given, spec if given == "--spec" else folder, "--out", out)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        f"{folder}/shop\\xff.yaml:1:1: (top level): the file name is not valid UTF-8; "
        "rename the file",
        f"1 {SUMMARY}",
    ]
    assert not out.exists()


@pytest.mark.parametrize("parent", ["/proc", "/sys"])
def test_an_unwritable_output_parent_is_named_as_the_user_wrote_it(parent: str) -> None:
    """The new tree is built in a temporary folder beside out/; when that cannot be made, the
    error names the --out the user gave and the folder it sits in, not the temporary name."""
    out = f"{parent}/slo-generator-out"
    proc = run_cli("generate", "--spec", SAMOKODER, "--out", out)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and ".new-" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith(
        f"{out} (the new tree is built beside it, in {parent}/): cannot write: "
    ), proc.stderr
