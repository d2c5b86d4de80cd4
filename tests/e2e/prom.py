"""A real Prometheus server for tests: free port on 127.0.0.1, readiness probe, bounded
lifetime, always stopped; plus the HTTP API calls and the promtool backfill steps.

:class:`Server` is what every end-to-end test talks to, whatever the engine: instant and
range queries, rule groups, active alerts. :mod:`tests.e2e.vm` provides the same for
VictoriaMetrics (victoria-metrics for queries, vmalert for rules and alerts)."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator

import yaml

from generator import tools

READY_TIMEOUT = 60.0
MAX_LIFETIME = 900.0  # a server never outlives this, whatever the test does


class ServerFailed(RuntimeError):
    """Prometheus did not start, or died; the message carries its log."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_get(url: str, **params: object) -> dict:
    """Return the ``data`` of a successful Prometheus-API answer; raise with the error text
    otherwise."""
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    url = url + (f"?{query}" if query else "")
    try:
        with urllib.request.urlopen(url, timeout=120) as resp:
            body = json.load(resp)
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{url}: HTTP {exc.code}: {exc.read().decode()[:500]}") from None
    if body.get("status") != "success":
        raise AssertionError(f"{url}: {body}")
    return body["data"]


class Server:
    """A live rule engine with its storage: queries go to ``url``, rules and alerts to
    ``rules_url`` (the same server for Prometheus; vmalert for VictoriaMetrics)."""

    def __init__(
        self,
        procs: list[subprocess.Popen],
        url: str,
        logs: list[pathlib.Path],
        started: float,
        rules_url: str | None = None,
    ):
        self.procs = procs
        self.proc = procs[0]
        self.url = url
        self.rules_url = rules_url or url
        self.logs = logs
        self.log = logs[0]
        self.started = started

    def get(self, path: str, **params: object) -> dict:
        """Return the ``data`` of a successful API answer; raise with the error text otherwise."""
        return api_get(f"{self.url}{path}", **params)

    def query(self, expr: str, at: float | None = None, stats: bool = False) -> dict:
        """Run an instant query; return its ``data`` (resultType, result, maybe stats)."""
        return self.get("/api/v1/query", query=expr, time=at, stats="all" if stats else None)

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        """Run a range query; return the matrix."""
        return self.get("/api/v1/query_range", query=expr, start=start, end=end, step=step)[
            "result"
        ]

    def rule_groups(self) -> list[dict]:
        """Return the groups of /api/v1/rules."""
        return api_get(f"{self.rules_url}/api/v1/rules")["groups"]

    def alerts(self) -> list[dict]:
        """Return the active (pending or firing) alerts of /api/v1/alerts."""
        return api_get(f"{self.rules_url}/api/v1/alerts")["alerts"]

    def wait_for(self, what: str, check, timeout: float = 120.0, every: float = 0.5):
        """Poll ``check()`` until it returns a truthy value; return it, or fail after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            if any(p.poll() is not None for p in self.procs):
                raise ServerFailed(f"a server exited while waiting for {what}:\n{self.tail()}")
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(every)

    def tail(self, lines: int = 40) -> str:
        """Return the end of every log of the server."""
        out = []
        for log in self.logs:
            text = log.read_text(errors="replace") if log.exists() else ""
            out.append(f"--- {log.name}\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(out)


class Prometheus(Server):
    """A running Prometheus; use :func:`running` to start one."""

    def __init__(self, proc: subprocess.Popen, url: str, log: pathlib.Path, started: float):
        super().__init__([proc], url, [log], started)


def _ready(url: str, path: str = "/-/ready") -> bool:
    try:
        with urllib.request.urlopen(f"{url}{path}", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def running(
    data: pathlib.Path,
    rule_files: list[pathlib.Path] = (),  # type: ignore[assignment]
    engine: tools.Engine = tools.PROMETHEUS_2_42,
    evaluation_interval: str = "5s",
) -> Iterator[Prometheus]:
    """Start Prometheus on ``data`` with ``rule_files``; stop it on exit, even on failure."""
    binary = engine.tool("prometheus")
    config = data.parent / f"{data.name}-prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"evaluation_interval": evaluation_interval},
                "rule_files": [str(p) for p in rule_files],
            }
        )
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = data.parent / f"{data.name}-prometheus.log"
    args = [
        str(binary),
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=3650d",  # backfilled blocks must not be deleted
        "--log.level=info",
    ]
    with spawned(args, log) as proc:
        server = Prometheus(proc, url, log, time.time())
        wait_ready(server, proc, url, "/-/ready")
        yield server


@contextlib.contextmanager
def spawned(
    args: list[str], log: pathlib.Path, lifetime: float = MAX_LIFETIME
) -> Iterator[subprocess.Popen]:
    """Run ``args`` with output to ``log``; stop it on exit (and after ``lifetime``)."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    killer = threading.Timer(lifetime, lambda: _stop(proc, 0))
    killer.daemon = True
    killer.start()
    try:
        yield proc
    finally:
        killer.cancel()
        _stop(proc, 20)


def wait_ready(server: Server, proc: subprocess.Popen, url: str, path: str) -> None:
    """Wait until ``url + path`` answers 200; fail with the logs if ``proc`` dies first."""
    deadline = time.monotonic() + READY_TIMEOUT
    while not _ready(url, path):
        if proc.poll() is not None:
            raise ServerFailed(f"{proc.args[0]} exited with {proc.returncode}:\n{server.tail()}")
        if time.monotonic() > deadline:
            raise ServerFailed(f"{proc.args[0]} not ready after {READY_TIMEOUT}s:\n{server.tail()}")
        time.sleep(0.1)


def _stop(proc: subprocess.Popen, grace: float) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(10)


# -- backfill ---------------------------------------------------------------------------


def import_openmetrics(
    source: pathlib.Path, data: pathlib.Path, engine: tools.Engine = tools.PROMETHEUS_2_42
) -> None:
    """Turn an OpenMetrics file into TSDB blocks inside ``data``."""
    data.mkdir(parents=True, exist_ok=True)
    proc = tools.run(
        engine.tool("promtool"),
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        "-q",
        source,
        data,
        timeout=600,
    )
    if proc.returncode != 0:
        raise AssertionError(f"create-blocks-from openmetrics failed:\n{proc.stderr[-3000:]}")


def backfill_rules(
    server: Prometheus,
    rule_file: pathlib.Path,
    start: int,
    end: int,
    out: pathlib.Path,
    engine: tools.Engine = tools.PROMETHEUS_2_42,
) -> None:
    """Evaluate the recording rules of ``rule_file`` over [start, end] against ``server``.

    promtool walks 2-hour blocks aligned to the epoch and stops at the first one whose end
    precedes the group's first evaluation in it: start on a block boundary
    (:func:`tests.e2e.clock.block_floor`) or it may write nothing.
    """
    out.mkdir(parents=True, exist_ok=True)
    proc = tools.run(
        engine.tool("promtool"),
        "tsdb",
        "create-blocks-from",
        "rules",
        "-q",
        f"--url={server.url}",
        f"--start={start}",
        f"--end={end}",
        f"--output-dir={out}",
        "--eval-interval=60s",
        rule_file,
        timeout=900,
    )
    if proc.returncode != 0:
        raise AssertionError(f"create-blocks-from rules failed:\n{proc.stderr[-3000:]}")


def move_blocks(src: pathlib.Path, data: pathlib.Path) -> int:
    """Move every block directory of ``src`` into ``data``; return how many."""
    moved = 0
    for block in sorted(src.iterdir()) if src.exists() else []:
        if block.is_dir() and (block / "meta.json").exists():
            shutil.move(str(block), data / block.name)
            moved += 1
    return moved


_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def rule_levels(groups: list[dict]) -> list[list[dict]]:
    """Split recording groups into dependency levels: a rule's inputs are in earlier levels.

    ``create-blocks-from rules`` reads its inputs from the server, so a rule that reads
    another rule's output can only be backfilled after that output has been loaded.
    """
    level: dict[str, int] = {}
    records = {r["record"] for g in groups for r in g["rules"] if "record" in r}
    pending = [(g, r) for g in groups for r in g["rules"] if "record" in r]
    while pending:
        progress = False
        for item in list(pending):
            _, rule = item
            inputs = set(_NAME.findall(rule["expr"])) & records - {rule["record"]}
            if all(i in level for i in inputs):
                lvl = 1 + max((level[i] for i in inputs), default=0)
                level[rule["record"]] = max(level.get(rule["record"], 0), lvl)
                pending.remove(item)
                progress = True
        if not progress:
            raise AssertionError(f"recording rules depend on each other in a cycle: {pending}")
    out: list[list[dict]] = []
    for n in range(1, max(level.values(), default=0) + 1):
        lgroups = []
        for g in groups:
            rules = [r for r in g["rules"] if "record" in r and level[r["record"]] == n]
            if rules:
                lgroups.append({**g, "rules": rules})
        out.append(lgroups)
    return out


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[pathlib.Path]:
    """A temporary directory, in memory when the machine has /dev/shm: rule backfill writes
    thousands of small blocks, each synced to disk."""
    import tempfile

    shm = pathlib.Path("/dev/shm")
    root = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix=f"e2e-{prefix}-", dir=root) as d:
        yield pathlib.Path(d)


DEFAULT_ENGINE = "prometheus-3.5"
E2E_ENGINES = ("prometheus-3.5", "prometheus-2.53", "prometheus-2.42", "victoriametrics")


def env_engine() -> tools.Engine:
    """The engine under test: ``E2E_ENGINE`` (default ``prometheus-3.5``)."""
    name = os.environ.get("E2E_ENGINE", DEFAULT_ENGINE)
    if name not in E2E_ENGINES:
        raise ValueError(f"E2E_ENGINE={name!r}; expected one of {', '.join(E2E_ENGINES)}")
    return tools.engine(name)
