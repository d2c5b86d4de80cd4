"""out/ is replaced atomically: a failure or a kill at any step leaves it exactly as before.

Faults are injected at each step of ``generate`` (planning, writing, the read-back check,
the swap, the non-atomic fallback swap) in-process, and the real command is killed with
SIGKILL mid-write and at random moments. Every test compares whole trees byte for byte,
including the folder around out/, so a leftover staging folder is a failure too.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import CHECKOUT, SAMOKODER, run_cli, tree
from click.testing import CliRunner
from depth import examples

from generator import cli, output, parallel, plan, presentation

# What every tree holds besides its services (Samokoder has routing).
SHARED = {"_grafana", "alertmanager.yml"}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return a project folder holding slo_specs/ with two services and a generated out/."""
    specs = tmp_path / "slo_specs"
    specs.mkdir()
    shutil.copy(SAMOKODER, specs / "samokoder.yaml")
    shutil.copy(CHECKOUT, specs / "checkout.yaml")
    (tmp_path / "notes.txt").write_text("a file beside out/ that nothing may touch\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli.main, ["generate"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "out").iterdir()} == SHARED | {"samokoder", "checkout"}
    return tmp_path


def generate(*args: str) -> object:
    """Run ``generate`` in-process; return click's Result (exceptions are captured)."""
    return CliRunner().invoke(cli.main, ["generate", *args])


def change_a_spec(project: Path) -> None:
    """Edit checkout.yaml so that the next generation differs from the current out/."""
    spec = project / "slo_specs" / "checkout.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.5", "objective: 99.0"))


# -- injected faults --------------------------------------------------------------------------


def fail_planning(monkeypatch: pytest.MonkeyPatch) -> None:
    real = plan.service_files

    def planner(service, helper=None):
        if service.name == "checkout":
            raise RuntimeError("injected: planner failed")
        return real(service, helper)

    monkeypatch.setattr(plan, "service_files", planner)


def fail_half_way_through_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = output.write_tree

    def write(root, files):
        half = dict(sorted(files.items())[: len(files) // 2])
        real(root, half)
        raise OSError(errno.ENOSPC, "injected: no space left on device")

    monkeypatch.setattr(output, "write_tree", write)


def corrupt_a_staged_file(monkeypatch: pytest.MonkeyPatch) -> None:
    real = output.write_tree

    def write(root, files):
        real(root, files)
        victim = root / sorted(files)[0]
        victim.write_bytes(victim.read_bytes()[:-10])  # a truncated write

    monkeypatch.setattr(output, "write_tree", write)


def fail_the_swap(monkeypatch: pytest.MonkeyPatch) -> None:
    def exchange(a, b):
        raise OSError(errno.EIO, "injected: I/O error")

    monkeypatch.setattr(output, "_exchange", exchange)


def fail_the_fallback_swap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)  # as on a kernel without it
    real = os.rename

    def rename(src, dst):
        if ".new-" in str(src):  # the staged tree moving in: after out/ was moved aside
            raise OSError(errno.EIO, "injected: I/O error")
        return real(src, dst)

    monkeypatch.setattr(output.os, "rename", rename)


def interrupt_while_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = output.write_tree

    def write(root, files):
        real(root, dict(list(sorted(files.items()))[:1]))
        raise KeyboardInterrupt

    monkeypatch.setattr(output, "write_tree", write)


FAULTS = {
    "planning": fail_planning,
    "writing": fail_half_way_through_writing,
    "read-back check": corrupt_a_staged_file,
    "swap": fail_the_swap,
    "fallback swap": fail_the_fallback_swap,
    "interrupt": interrupt_while_writing,
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
@pytest.mark.parametrize("only", [False, True], ids=["all-specs", "one-spec"])
def test_a_fault_at_any_step_leaves_out_as_before(project: Path, fault: str, only: bool) -> None:
    change_a_spec(project)
    before = tree(project)
    with pytest.MonkeyPatch.context() as patch:  # the project's chdir stays in force
        FAULTS[fault](patch)
        result = generate(*(["--spec", "slo_specs/checkout.yaml"] if only else []))
    assert result.exit_code != 0
    assert result.exception is not None
    assert tree(project) == before
    # And the next clean run writes the new tree.
    assert generate().exit_code == 0
    assert tree(project) != before


def test_the_fallback_swap_writes_the_same_tree(project: Path) -> None:
    change_a_spec(project)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(output, "_exchange", lambda a, b: False)
        assert generate().exit_code == 0
    fallback = tree(project)
    (project / "out" / "checkout" / "stale.txt").write_text("x")
    assert generate().exit_code == 0
    assert tree(project) == fallback


# -- stale files ------------------------------------------------------------------------------


def test_stale_files_go_in_the_same_swap_and_nothing_else_moves(project: Path) -> None:
    out = project / "out"
    fresh = tree(out)
    notes = project / "notes.txt"
    notes_stat = notes.stat()
    (out / "samokoder" / "grafana").mkdir(exist_ok=True)
    (out / "samokoder" / "grafana" / "removed-panel.json").write_text("{}\n")
    (out / "ghost" / "prometheus").mkdir(parents=True)
    (out / "ghost" / "prometheus" / "alerts.yml").write_text("groups: []\n")
    (project / "slo_specs" / "checkout.yaml").unlink()  # the service's spec was deleted

    assert generate().exit_code == 0

    want = {k: v for k, v in fresh.items() if not k.startswith("checkout")}
    assert tree(out) == want
    assert notes.read_bytes() == b"a file beside out/ that nothing may touch\n"
    assert notes.stat().st_mtime_ns == notes_stat.st_mtime_ns
    assert sorted(p.name for p in project.iterdir()) == ["notes.txt", "out", "slo_specs"]


def test_one_spec_replaces_only_its_service(project: Path) -> None:
    out = project / "out"
    fresh = tree(out)
    (out / "checkout" / "old-panel.json").write_text("{}\n")
    (out / "samokoder" / "hand-edit.txt").write_text("kept: not this run's service\n")
    change_a_spec(project)

    assert generate("--spec", "slo_specs/checkout.yaml").exit_code == 0

    after = tree(out)
    assert "checkout/old-panel.json" not in after
    samokoder = {k: v for k, v in after.items() if k.startswith("samokoder")}
    assert samokoder == {
        **{k: v for k, v in fresh.items() if k.startswith("samokoder")},
        "samokoder/hand-edit.txt": b"kept: not this run's service\n",
    }
    changed = {k for k in after if after[k] != fresh.get(k)}
    assert changed and all(k.startswith("checkout") for k in changed - {"samokoder/hand-edit.txt"})


# -- SIGKILL ----------------------------------------------------------------------------------

SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from generator import cli, output

    marker = Path(sys.argv[1])
    real = output.write_tree

    def slow(root, files):
        for i, (rel, content) in enumerate(sorted(files.items())):
            real(root, {rel: content})
            if i == len(files) // 2:
                marker.write_text(str(root))  # half the tree is on disk: kill me now
                time.sleep(60)

    output.write_tree = slow
    cli.main(["generate", *sys.argv[2:]])
    """
)


def _marker(project: Path) -> Path:
    """Where SLOW_WRITER says it is half-way: beside ``project``, named after it, since
    tmp_path's parent is shared by the tests of a worker."""
    return project.parent / f"{project.name}.half-written"


def _wait_for(marker: Path, proc: subprocess.Popen) -> None:
    """Wait until SLOW_WRITER in ``proc`` has written ``marker`` (it then sleeps)."""
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, "the generator exited before the signal"
        assert time.monotonic() < deadline, f"{marker} never appeared"
        time.sleep(0.01)


def _processes_in(folder: Path) -> list[int]:
    """Return the ids of live processes, other than this one, working in ``folder``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if Path(os.readlink(entry / "cwd")) == folder.resolve():
                    stat = (entry / "stat").read_text()
                    if stat.rsplit(")", 1)[1].split()[0] != "Z":  # not a reaped-to-be zombie
                        found.append(int(entry.name))
    return found


def test_sigkill_mid_write_leaves_out_as_before(project: Path) -> None:
    change_a_spec(project)
    before = tree(project / "out")
    marker = _marker(project)
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(marker)], cwd=project)
    try:
        _wait_for(marker, proc)
        staging = Path(marker.read_text())
        assert staging.parent == project and any(staging.rglob("*.yml"))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert tree(project / "out") == before
    # Its planning workers die with it (they would hold the work queue, and once held the
    # lock on out/'s folder so that the next run waited forever).
    deadline = time.monotonic() + 10
    while _processes_in(project):
        assert time.monotonic() < deadline, f"orphans left: {_processes_in(project)}"
        time.sleep(0.05)
    # The killed run's staging folder is beside out/, never in it; the next run removes it.
    assert staging.exists()
    assert run_cli("generate", cwd=project).returncode == 0
    assert not staging.exists()
    assert sorted(p.name for p in project.iterdir()) == ["notes.txt", "out", "slo_specs"]
    assert tree(project / "out") != before


# Repetitions of a randomised trial, sized by the profile like a property's examples.
KILLS = examples(deep=12, quick=6)
RACES = examples(deep=10, quick=4)


@pytest.mark.deep
def test_sigkill_at_random_moments_leaves_old_or_new_never_a_mix(project: Path) -> None:
    old = tree(project / "out")
    change_a_spec(project)
    start = time.monotonic()
    assert run_cli("generate", "--out", project / "new", cwd=project).returncode == 0
    runtime = time.monotonic() - start
    new = tree(project / "new")
    shutil.rmtree(project / "new")
    assert new != old
    rng = random.Random(4)  # fixed: a failure can be replayed
    seen = []
    for _ in range(KILLS):
        _restore(project, old)
        proc = subprocess.Popen([sys.executable, "-m", "generator", "generate"], cwd=project)
        time.sleep(rng.uniform(0.3, 1.1) * runtime)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        state = tree(project / "out")
        assert state in (old, new), "out/ holds a mix of the old and the new tree"
        seen.append("new" if state == new else "old")
    print(f"SIGKILL outcomes over {KILLS} runs: {seen}")


def _restore(project: Path, files: dict[str, bytes | str]) -> None:
    out = project / "out"
    shutil.rmtree(out)
    for rel, content in files.items():
        if content == "dir":
            (out / rel).mkdir(parents=True, exist_ok=True)
        else:
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_bytes(content)


OS_FAULTS = ("writing", "read-back check", "swap", "fallback swap")


@pytest.mark.parametrize("fault", OS_FAULTS)
def test_an_expected_os_error_is_one_line_and_exit_2(project: Path, fault: str) -> None:
    """Disk full, an I/O error or a staged file that reads back wrong is not a bug: one
    line naming the path and the reason, exit 2 (never 1, which ``check`` uses for
    "stale"), out/ as it was."""
    change_a_spec(project)
    before = tree(project)
    with pytest.MonkeyPatch.context() as patch:
        FAULTS[fault](patch)
        result = generate()
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "cannot write" in lines[0] and "left as it was" in lines[0], lines
    assert tree(project) == before


@pytest.fixture
def world_readable_tmp() -> Iterator[Path]:
    """A temporary folder an unprivileged user can reach (pytest's are root-only)."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="slo-ro-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for p in [path, *path.rglob("*")]:
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        shutil.rmtree(path)


def test_a_read_only_out_is_refused_for_a_user_who_cannot_write_it(
    world_readable_tmp: Path,
) -> None:
    """Run as an unprivileged user (``setpriv``; root would override the permission): a
    write-protected out/ is refused with exit 2 and one line, nothing moves, and no staging
    folder is left behind for later runs to trip over."""
    import stat

    tmp_path = world_readable_tmp
    project = tmp_path / "project"
    (project / "slo_specs").mkdir(parents=True)
    shutil.copy(SAMOKODER, project / "slo_specs" / "samokoder.yaml")
    assert run_cli("generate", cwd=project).returncode == 0
    spec = project / "slo_specs" / "samokoder.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.9", "objective: 99.5"))
    for p in [tmp_path, project, *project.rglob("*")]:
        os.chown(p, 65534, 65534, follow_symlinks=False)
    for p in [project / "out", *(project / "out").rglob("*")]:
        if p.is_dir():
            p.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    before = tree(project)
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    proc = subprocess.run(
        [*cmd, sys.executable, "-m", "generator", "generate"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(cli.__file__).resolve().parents[1])},
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "read-only" in lines[0], lines
    assert tree(project) == before
    assert not list(project.glob(".out.*"))


@pytest.mark.deep
def test_two_runs_for_two_new_services_at_once_keep_both(tmp_path: Path) -> None:
    """``generate --spec a`` and ``generate --spec b`` started together, RACES times: every
    time both services are in out/ afterwards (the kept folders are listed under the lock,
    so neither run's swap drops what the other wrote)."""
    project = tmp_path / "project"
    (project / "slo_specs").mkdir(parents=True)
    shutil.copy(SAMOKODER, project / "slo_specs" / "samokoder.yaml")
    shutil.copy(CHECKOUT, project / "slo_specs" / "checkout.yaml")
    for attempt in range(RACES):
        shutil.rmtree(project / "out", ignore_errors=True)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "generator", "generate", "--spec", f"slo_specs/{s}.yaml"],
                cwd=project,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for s in ("samokoder", "checkout")
        ]
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
        have = {p.name for p in (project / "out").iterdir()}
        assert have == SHARED | {"samokoder", "checkout"}, (attempt, have)


def test_a_killed_planning_worker_fails_the_run_instead_of_hanging(project: Path) -> None:
    """Two services are planned in two forked workers; one is SIGKILLed (as the OOM killer
    would): the run fails, promptly, and out/ is as before."""
    change_a_spec(project)
    before = tree(project)
    parent = os.getpid()
    real = plan.service_files

    def planner(service, helper=None):
        if os.getpid() != parent and service.name == "checkout":
            os.kill(os.getpid(), signal.SIGKILL)
        return real(service, helper)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan, "service_files", planner)
        # Without the cache, samokoder's unchanged files would be reused, not planned.
        result = generate("--jobs", "2", "--no-cache")
    assert result.exit_code == 2, result.output
    assert "a planning process died" in result.output and "Traceback" not in result.output
    assert tree(project) == before


def test_a_killed_helper_fails_a_lone_spec_instead_of_hanging(project: Path) -> None:
    """One spec's dashboard and deploy targets are planned in a forked helper; it is
    SIGKILLed while planning the dashboard: the run fails, promptly, and out/ is as before."""
    from generator.grafana import files as grafana_files

    change_a_spec(project)
    before = tree(project)
    parent = os.getpid()
    real = grafana_files.files

    def planner(service):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(service)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grafana_files, "files", planner)
        result = generate("--spec", "slo_specs/checkout.yaml", "--jobs", "2")
    assert result.exit_code == 2, result.output
    assert "a planning process died" in result.output and "Traceback" not in result.output
    assert tree(project) == before
    assert generate("--spec", "slo_specs/checkout.yaml").exit_code == 0  # and it recovers


def test_ctrl_c_on_a_lone_spec_is_one_line_and_leaves_out_as_before(project: Path) -> None:
    """Ctrl-C reaches the whole process group, the lone spec's helper too (it has planned
    the dashboard and waits for more work): the run stops with click's one line, the helper
    dies without a traceback of its own, out/ is as before and nothing is left running."""
    change_a_spec(project)
    before = tree(project / "out")
    marker = _marker(project)
    args = [str(marker), "--spec", "slo_specs/checkout.yaml", "--jobs", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, *args],
        cwd=project,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(marker, proc)
        assert len(_processes_in(project)) == 2, "no helper beside the run"
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1 and err.strip() == "Aborted!", err
    assert tree(project / "out") == before
    assert not _processes_in(project)


def test_a_lone_spec_with_a_mistake_does_not_wait_for_the_helper(project: Path) -> None:
    """A run that ends early kills its helper rather than waiting for it: here the helper's
    imports never end, and a spec with a mistake is still reported, exit 2, out/ as before."""
    (project / "slo_specs" / "broken.yaml").write_text("not: a spec\n")
    before = tree(project)
    parent = os.getpid()

    def never_ready():
        if os.getpid() != parent:
            time.sleep(3600)

    results: list = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(presentation, "planners", never_ready)
        run = threading.Thread(
            target=lambda: results.append(generate("--spec", "slo_specs/broken.yaml", "-j", "2"))
        )
        run.start()
        run.join(timeout=120)  # a hang detector: the run takes under a second
    assert not run.is_alive(), "generate waited for the helper's imports"
    assert results[0].exit_code == 2, results[0].output
    assert "slo_specs/broken.yaml:1:1" in results[0].output
    assert tree(project) == before
    assert not _processes_in(project)


def test_a_lone_spec_is_planned_in_one_process_where_none_can_be_forked(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a process limit (fork fails with EAGAIN) the helper is only a speed-up: the run
    plans everything itself and writes what --jobs 1 writes."""
    change_a_spec(project)
    assert generate("--spec", "slo_specs/checkout.yaml", "--jobs", "1").exit_code == 0
    expected = tree(project / "out")
    shutil.rmtree(project / "out" / "checkout")

    def fork():
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(parallel.os, "fork", fork)
    result = generate("--spec", "slo_specs/checkout.yaml", "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert tree(project / "out") == expected


class _Libc:
    """The C library as ``output`` calls it, with ``syncfs`` missing or failing."""

    def __init__(self, syncfs_errno: int | None) -> None:
        self.renameat2 = output._libc.renameat2
        if syncfs_errno is not None:
            self.syncfs = lambda fd: self._fail(syncfs_errno)

    @staticmethod
    def _fail(code: int) -> int:
        ctypes.set_errno(code)
        return -1


@pytest.mark.parametrize("code", [None, errno.ENOSYS], ids=["no-syncfs", "syncfs-enosys"])
def test_without_syncfs_every_staged_path_is_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int | None
) -> None:
    """Where the C library or the kernel has no syncfs, the staged tree is flushed one fsync
    per file and folder before the swap, and the swap still happens."""
    monkeypatch.setattr(output, "_libc", _Libc(code))
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    files = {"a/x.yml": b"x\n", "a/b/y.yml": b"y\n", "z.yml": b"z\n"}
    output.replace_tree(tmp_path / "out", files)
    assert output.read_tree(tmp_path / "out") == files
    assert len(synced) == 6  # the root, folders a and a/b, three files


def test_a_failing_syncfs_leaves_out_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk error from syncfs (EIO) is an OSError before the swap: out/ keeps the old tree."""
    output.replace_tree(tmp_path / "out", {"old.yml": b"old\n"})
    monkeypatch.setattr(output, "_libc", _Libc(errno.EIO))
    with pytest.raises(OSError):
        output.replace_tree(tmp_path / "out", {"new.yml": b"new\n"})
    assert output.read_tree(tmp_path / "out") == {"old.yml": b"old\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_file_work_on_threads_keeps_order_and_raises_the_first_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``output._threaded`` (removing, reading and hashing files on every CPU) returns
    results in the items' order whatever thread ran them, runs each item once, and raises
    a call's exception, which the swap's callers turn into "out/ was left as it was"."""
    monkeypatch.setattr(output, "cores", lambda: 3)
    ran: list[int] = []
    names: set[str] = set()

    def slow_square(n: int) -> int:
        time.sleep(0.001 * (n % 3))  # later items finish first on other threads
        ran.append(n)
        names.add(threading.current_thread().name)
        return n * n

    assert output._threaded(slow_square, list(range(40))) == [n * n for n in range(40)]
    assert sorted(ran) == list(range(40)) and len(names) == 3

    def fails_on_7(n: int) -> int:
        if n == 7:
            raise PermissionError(errno.EACCES, "read-only", f"file{n}")
        return n

    with pytest.raises(PermissionError, match="read-only"):
        output._threaded(fails_on_7, list(range(40)))
