"""The cache of generated services never changes what ``generate`` writes.

Whatever happened between two runs (a spec edited, renamed or deleted, an output file edited
or replaced by a link, the generator itself changed, the cache damaged or open to others),
a run with the cache writes the tree a run without it writes, byte for byte. Each test runs
the real command line and compares with a ``--no-cache`` run of the same specs in a folder
of its own; the stdout line says how many services were reused, so each test also shows
that the cache was (or was not) used where it says.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from cli_support import CHECKOUT, ROOT, SAMOKODER, run_cli, tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import cache

EDITS = {
    "objective": ("objective: 99.5", "objective: 99.0"),  # checkout's one availability SLO
    "comment": ("\n", "\n# a comment changes the bytes, not the Model\n"),
}


def project(folder: Path, specs: dict[str, bytes]) -> Path:
    """Return ``folder`` holding slo_specs/ with ``specs`` (file name -> bytes), and only them."""
    shutil.rmtree(folder / "slo_specs", ignore_errors=True)
    (folder / "slo_specs").mkdir(parents=True)
    for name, content in specs.items():
        (folder / "slo_specs" / name).write_bytes(content)
    return folder


def generate(folder: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run ``generate`` in ``folder``; return its stdout (asserting it succeeded)."""
    proc = run_cli("generate", *args, cwd=folder, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def reused(stdout: str) -> int:
    """Return how many unchanged services the run says it kept."""
    _, found, rest = stdout.partition(" files of ")
    return int(rest.split()[0]) if found else 0


def cold(folder: Path, specs: dict[str, bytes]) -> dict[str, bytes | str]:
    """Return the tree a run without the cache writes for ``specs``, in a new folder."""
    assert reused(generate(project(folder, specs), "--no-cache")) == 0
    return tree(folder / "out")


def originals() -> dict[str, bytes]:
    return {"samokoder.yaml": SAMOKODER.read_bytes(), "checkout.yaml": CHECKOUT.read_bytes()}


def test_an_unchanged_spec_is_reused_and_an_edited_one_planned(tmp_path: Path) -> None:
    specs = originals()
    work = project(tmp_path / "work", specs)
    assert reused(generate(work)) == 0  # nothing cached yet
    assert reused(generate(work)) == 2
    assert tree(work / "out") == cold(tmp_path / "cold-1", specs)

    old, new = EDITS["objective"]
    specs["checkout.yaml"] = specs["checkout.yaml"].replace(old.encode(), new.encode(), 1)
    project(work, specs)
    assert reused(generate(work)) == 1  # samokoder's; checkout's changed
    want = cold(tmp_path / "cold-2", specs)
    assert tree(work / "out") == want
    assert want != tree(tmp_path / "cold-1" / "out")  # the edit did change the output


def _tamper_edit(out: Path) -> None:
    with open(out / "samokoder" / "prometheus" / "alerts.yml", "ab") as handle:
        handle.write(b"# edited by hand\n")


def _tamper_delete(out: Path) -> None:
    (out / "samokoder" / "grafana" / "four-golden-signals.json").unlink()


def _tamper_add(out: Path) -> None:
    (out / "samokoder" / "prometheus" / "stray.yml").write_text("groups: []\n")


def _tamper_symlink(out: Path) -> None:
    # Same bytes behind a link: a file the generator did not write, so not reused.
    alerts = out / "samokoder" / "prometheus" / "alerts.yml"
    copy = out.parent / "alerts-copy.yml"
    shutil.copy(alerts, copy)
    alerts.unlink()
    alerts.symlink_to(copy)


def _tamper_service_folder(out: Path) -> None:
    shutil.rmtree(out / "samokoder")


def _tamper_empty_folder(out: Path) -> None:
    (out / "samokoder" / "junk").mkdir()


def _tamper_file_mode(out: Path) -> None:
    os.chmod(out / "samokoder" / "docs" / "alerts.md", 0o755)


def _tamper_folder_mode(out: Path) -> None:
    os.chmod(out / "samokoder" / "docs", 0o700)


def _tamper_fifo(out: Path) -> None:
    alerts = out / "samokoder" / "prometheus" / "alerts.yml"
    alerts.unlink()
    os.mkfifo(alerts)


def modes(root: Path) -> dict[str, int]:
    """Return the mode of everything under ``root``, by relative path."""
    return {
        str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in sorted(root.rglob("*"))
    }


TAMPERS = [
    _tamper_edit,
    _tamper_delete,
    _tamper_add,
    _tamper_symlink,
    _tamper_service_folder,
    _tamper_empty_folder,
    _tamper_file_mode,
    _tamper_folder_mode,
    _tamper_fifo,
]


@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda f: f.__name__.removeprefix("_tamper_"))
def test_an_output_file_changed_by_hand_is_planned_again(tmp_path: Path, tamper) -> None:
    specs = originals()
    work = project(tmp_path / "work", specs)
    generate(work)
    tamper(work / "out")
    assert reused(generate(work)) == 1  # checkout's only
    want = cold(tmp_path / "cold", specs)
    assert tree(work / "out") == want
    assert modes(work / "out") == modes(tmp_path / "cold" / "out")
    assert reused(generate(work)) == 2  # and samokoder's files are trusted again


@pytest.mark.parametrize("args", [(), ("--spec", "slo_specs/checkout.yaml", "--no-cache")])
def test_a_file_linked_from_outside_out_is_not_linked_into_the_new_tree(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """A hard link from outside out/ (a snapshot made with `cp -al`) must not see, or
    change, the new tree: what the cache reuses, or --spec keeps, is a copy then."""
    specs = originals()
    work = project(tmp_path / "work", specs)
    generate(work)
    alerts = work / "out" / "samokoder" / "prometheus" / "alerts.yml"
    outside = tmp_path / "snapshot-alerts.yml"
    os.link(alerts, outside)
    generate(work, *args)
    assert alerts.stat().st_nlink == 1
    with open(outside, "ab") as handle:
        handle.write(b"# written through the outside link\n")
    assert tree(work / "out") == cold(tmp_path / "cold", specs)


def patched_generate(folder: Path, patch: str) -> str:
    """Run ``generate`` in ``folder`` in a process that first runs the Python code
    ``patch`` (a fault to inject); return its stdout. The same interpreter, package and
    path as :func:`generate`, so the cache's entries are shared."""
    import subprocess
    import sys

    driver = f"{patch}\nfrom generator.cli import run\nrun()\n"
    proc = subprocess.run(
        [sys.executable, "-c", driver, "generate"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


EDIT_AFTER_LOOKUP = """
from pathlib import Path
from generator import cache
real = cache.Cache.lookup
def lookup_then_edit(self, sources):
    found = real(self, sources)
    spec = Path("slo_specs/samokoder.yaml")
    spec.write_bytes(spec.read_bytes().replace(b"description: ", b"description: EDITED ", 1))
    return found
cache.Cache.lookup = lookup_then_edit
"""


def test_a_spec_edited_while_the_run_reads_it_is_keyed_by_the_bytes_it_was_planned_from(
    tmp_path: Path,
) -> None:
    """The spec changes right after the cache read it (an editor saving during a
    pre-commit hook's run): the run generates the bytes it keyed, so that once the spec is
    back, the files it recorded are right for it."""
    specs = originals()
    work = project(tmp_path / "work", specs)
    patched_generate(work, EDIT_AFTER_LOOKUP)
    assert b"EDITED" in (work / "slo_specs" / "samokoder.yaml").read_bytes()
    assert b"EDITED" not in b"".join(v for v in tree(work / "out").values() if isinstance(v, bytes))
    project(work, specs)  # the spec as it was
    assert reused(generate(work)) == 2
    assert tree(work / "out") == cold(tmp_path / "cold", specs)


# The tests run as root, who reads any file: the refusal is injected.
REFUSE_ALERTS_MD = """
import os
real = os.open
def refuse(path, flags, *args, **kwargs):
    if str(path).endswith("samokoder/docs/alerts.md") and not flags & os.O_WRONLY:
        raise PermissionError(13, "Permission denied", str(path))
    return real(path, flags, *args, **kwargs)
os.open = refuse
"""


def test_an_unreadable_output_file_is_planned_again_not_an_error(tmp_path: Path) -> None:
    specs = originals()
    work = project(tmp_path / "work", specs)
    generate(work)
    assert reused(patched_generate(work, REFUSE_ALERTS_MD)) == 1
    assert tree(work / "out") == cold(tmp_path / "cold", specs)


@pytest.mark.parametrize("spec", ["valid", "invalid"])
def test_a_run_started_without_stdout_keeps_its_exit_status(tmp_path: Path, spec: str) -> None:
    import subprocess
    import sys

    specs = originals()
    if spec == "invalid":
        specs["checkout.yaml"] = b"service: checkout\nslos: 3\n"
    work = project(tmp_path / "work", specs)
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "generate"],
        cwd=work,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.close(1),
        check=False,
    )
    assert proc.returncode == (0 if spec == "valid" else 2), proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_spec_renamed_or_read_by_another_path_is_planned_again(tmp_path: Path) -> None:
    # Headers name the spec's path as given, so the same bytes under another name, or
    # read from another folder, generate other files.
    specs = originals()
    work = project(tmp_path / "work", specs)
    generate(work)
    renamed = {"shop.yaml" if k == "checkout.yaml" else k: v for k, v in specs.items()}
    project(work, renamed)
    assert reused(generate(work)) == 1
    assert tree(work / "out") == cold(tmp_path / "cold", renamed)

    # From the parent folder, every spec is reported as work/slo_specs/<name>.
    out = generate(tmp_path, "--spec-dir", "work/slo_specs", "--out", "work/out")
    assert reused(out) == 0
    assert (
        b"work/slo_specs/shop.yaml"
        in (work / "out" / "checkout" / "prometheus" / "alerts.yml").read_bytes()
    )


def test_a_deleted_spec_takes_its_service_and_its_entry_away(tmp_path: Path) -> None:
    specs = originals()
    work = project(tmp_path / "work", specs)
    generate(work)
    del specs["checkout.yaml"]
    project(work, specs)
    assert reused(generate(work)) == 1
    assert tree(work / "out") == cold(tmp_path / "cold", specs)
    assert len(list(_entries(tmp_path / "work" / "out"))) == 1  # checkout's entry is pruned


def test_with_spec_only_that_service_is_planned_and_the_rest_kept(tmp_path: Path) -> None:
    specs = originals()
    work = project(tmp_path / "work", specs)
    generate(work)
    assert reused(generate(work, "--spec", "slo_specs/checkout.yaml")) == 1
    assert tree(work / "out") == cold(tmp_path / "cold", specs)


def check(folder: Path) -> tuple[int, str]:
    """Run ``check`` in ``folder``; return its exit status and its stdout and stderr."""
    proc = run_cli("check", cwd=folder)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, proc.stdout + proc.stderr


# (A link to the same bytes is not stale for `check`, which compares bytes, cache or not.)
@pytest.mark.parametrize(
    "tamper", [_tamper_edit, _tamper_delete, _tamper_add], ids=lambda f: f.__name__
)
def test_check_trusts_an_entry_only_for_files_that_match_it(tmp_path: Path, tamper) -> None:
    specs = originals()
    work = project(tmp_path / "work", specs)
    generate(work)
    status, said = check(work)
    assert status == 0 and "2 unchanged service(s) checked by digest" in said, said
    tamper(work / "out")
    status, said = check(work)
    assert status == 1 and "samokoder/" in said, said  # the changed file is shown


def test_check_plans_an_edited_spec_though_its_output_is_cached(tmp_path: Path) -> None:
    specs = originals()
    work = project(tmp_path / "work", specs)
    generate(work)
    old, new = EDITS["objective"]
    specs["checkout.yaml"] = specs["checkout.yaml"].replace(old.encode(), new.encode(), 1)
    project(work, specs)
    status, said = check(work)
    assert status == 1 and "checkout/" in said and "1 unchanged" not in said, said
    generate(work)
    status, said = check(work)
    assert status == 0 and "2 unchanged service(s) checked by digest" in said, said


def _cache_home() -> Path:
    return Path(os.environ["XDG_CACHE_HOME"]) / "slo-generator"


def _entries(out: Path) -> list[Path]:
    """Return the entry files of the output folder ``out``."""
    folder = cache.Cache(_cache_home(), out).folder
    return sorted(folder.glob("*.entry")) if folder.is_dir() else []


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage"])
def test_a_damaged_entry_is_a_miss_never_an_error(tmp_path: Path, damage: str) -> None:
    specs = originals()
    work = project(tmp_path / "work", specs)
    generate(work)
    for entry in _entries(work / "out"):
        blob = entry.read_bytes()
        entry.write_bytes(
            {
                "truncate": blob[: len(blob) // 2],
                "flip": blob[:-10] + bytes([blob[-10] ^ 0xFF]) + blob[-9:],
                "empty": b"",
                "garbage": os.urandom(len(blob)),
            }[damage]
        )
    assert reused(generate(work)) == 0
    assert tree(work / "out") == cold(tmp_path / "cold", specs)
    assert reused(generate(work)) == 2  # the entries were written again


def test_a_cache_others_may_write_to_is_not_used(tmp_path: Path) -> None:
    # An entry holds a pickled Model: one that someone else could have written is never
    # read. (The tests run as root, so the check is on the mode bits.)
    home = tmp_path / "cache-home"
    env = {"XDG_CACHE_HOME": str(home)}
    work = project(tmp_path / "work", originals())
    generate(work, env=env)
    os.chmod(home / "slo-generator", 0o777)
    assert reused(generate(work, env=env)) == 0
    os.chmod(home / "slo-generator", 0o700)
    assert reused(generate(work, env=env)) == 2


def test_no_cache_neither_reads_nor_writes_it(tmp_path: Path) -> None:
    home = tmp_path / "cache-home"
    env = {"XDG_CACHE_HOME": str(home)}
    work = project(tmp_path / "work", originals())
    assert reused(generate(work, "--no-cache", env=env)) == 0
    assert not home.exists()
    generate(work, env=env)
    assert reused(generate(work, "--no-cache", env=env)) == 0


def test_a_changed_generator_plans_every_service_again(tmp_path: Path) -> None:
    """A copy of the generator whose docs template says one word more, run over the same
    project and cache: nothing is reused and the word is in the docs."""
    copy = tmp_path / "copy"
    shutil.copytree(
        ROOT / "generator", copy / "generator", ignore=shutil.ignore_patterns("__pycache__")
    )
    template = copy / "generator" / "docs" / "templates" / "alerts.md.j2"
    template.write_text(template.read_text() + "\nThe changed generator wrote this.\n")
    work = project(tmp_path / "work", originals())
    generate(work)
    assert reused(generate(work)) == 2
    out = generate(work, env={"PYTHONPATH": str(copy)})
    assert reused(out) == 0
    assert (
        b"The changed generator wrote this."
        in (work / "out" / "checkout" / "docs" / "alerts.md").read_bytes()
    )
    assert reused(generate(work)) == 0  # and back: the entries are the copy's now


def test_the_fingerprint_follows_the_package_and_the_installed_versions(tmp_path: Path) -> None:
    package = tmp_path / "package"
    shutil.copytree(ROOT / "generator", package, ignore=shutil.ignore_patterns("__pycache__"))
    site = tmp_path / "site"
    (site / "jinja2-3.1.4.dist-info").mkdir(parents=True)
    base = cache.fingerprint(package, [str(site)])
    assert cache.fingerprint(package, [str(site)]) == base

    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "cli.cpython-311.pyc").write_bytes(b"compiled")
    assert cache.fingerprint(package, [str(site)]) == base  # bytecode is not the code

    (site / "jinja2-3.1.4.dist-info").rename(site / "jinja2-3.1.5.dist-info")
    assert cache.fingerprint(package, [str(site)]) != base
    (site / "jinja2-3.1.5.dist-info").rename(site / "jinja2-3.1.4.dist-info")

    schema = package / "spec" / "schema.json"
    schema.write_bytes(schema.read_bytes() + b" ")
    assert cache.fingerprint(package, [str(site)]) != base


# -- any sequence of edits ---------------------------------------------------------------------

STEPS = st.lists(
    st.sampled_from(
        [
            "edit-objective",
            "edit-comment",
            "undo-edits",
            "delete-checkout",
            "restore-checkout",
            "tamper-output",
            "no-cache",
        ]
    ),
    min_size=2,
    max_size=4,
)


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS)
def test_any_sequence_of_edits_writes_what_a_run_without_the_cache_writes(
    tmp_path_factory: pytest.TempPathFactory, steps: list[str]
) -> None:
    base = tmp_path_factory.mktemp("sequence")
    specs = originals()
    work = project(base / "work", specs)
    generate(work)
    for i, step in enumerate(steps):
        args: tuple[str, ...] = ()
        if step.startswith("edit-"):
            old, new = EDITS[step.removeprefix("edit-")]
            specs["checkout.yaml"] = CHECKOUT.read_bytes().replace(old.encode(), new.encode(), 1)
        elif step == "undo-edits":
            specs["checkout.yaml"] = CHECKOUT.read_bytes()
        elif step == "delete-checkout":
            specs.pop("checkout.yaml", None)
        elif step == "restore-checkout":
            specs["checkout.yaml"] = CHECKOUT.read_bytes()
        elif step == "tamper-output":
            _tamper_edit(work / "out")
        else:
            args = ("--no-cache",)
        project(work, specs)
        generate(work, *args)
        assert tree(work / "out") == cold(base / f"cold-{i}", specs), steps[: i + 1]


def test_the_folder_is_private_to_its_user(tmp_path: Path) -> None:
    home = tmp_path / "cache-home"
    work = project(tmp_path / "work", originals())
    generate(work, env={"XDG_CACHE_HOME": str(home)})
    for folder in (home / "slo-generator", *(home / "slo-generator").iterdir()):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
