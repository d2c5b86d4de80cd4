"""VictoriaMetrics for the end-to-end tests: a single-node ``victoria-metrics`` server
(127.0.0.1, a free port, its own temporary storage), history imported over HTTP,
recording rules backfilled with ``vmalert``'s replay mode, and ``vmalert`` evaluating the
rules live. Tests talk to it through :class:`tests.e2e.prom.Server`, as to Prometheus."""

from __future__ import annotations

import contextlib
import datetime
import pathlib
import time
import urllib.request
from collections.abc import Iterator

from generator import tools

from .prom import Server, ServerFailed, free_port, spawned, wait_ready

LIFETIME = 2400.0  # the storage server lives through a whole scenario's setup and tests


def _rfc3339(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Storage(Server):
    """A running victoria-metrics; :func:`storage` starts one."""

    def post(self, path: str, body: bytes = b"") -> None:
        """POST ``body`` to ``path``; raise with the answer on an error status."""
        req = urllib.request.Request(f"{self.url}{path}", data=body, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=600) as resp:
                resp.read()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{path}: HTTP {exc.code}: {exc.read().decode()[:500]}") from None

    def flush(self) -> None:
        """Make everything ingested so far visible to queries."""
        with urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=60) as resp:
            resp.read()

    def import_text(self, source: pathlib.Path) -> None:
        """Import Prometheus text with millisecond timestamps, in chunks, then flush."""
        chunk: list[bytes] = []
        size = 0
        with source.open("rb") as f:
            for line in f:
                chunk.append(line)
                size += len(line)
                if size > 32 << 20:
                    self.post("/api/v1/import/prometheus", b"".join(chunk))
                    chunk, size = [], 0
        if chunk:
            self.post("/api/v1/import/prometheus", b"".join(chunk))
        self.flush()

    def wait_visible(self, expr: str, at: float, timeout: float = 60.0) -> None:
        """Wait until the instant query ``expr`` at ``at`` returns something."""
        self.wait_for(
            f"{expr} to become visible", lambda: self.query(expr, at=at)["result"], timeout
        )


@contextlib.contextmanager
def storage(data: pathlib.Path, engine: tools.Engine = tools.VICTORIAMETRICS) -> Iterator[Storage]:
    """Start victoria-metrics on ``data``; stop it on exit, even on failure."""
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = data.parent / f"{data.name}-victoria-metrics.log"
    args = [
        str(engine.tool("victoria-metrics")),
        f"-storageDataPath={data}",
        f"-httpListenAddr=127.0.0.1:{port}",
        "-retentionPeriod=100y",  # the history is weeks old or in the near future
        "-search.latencyOffset=0s",  # rules at "now" see the newest samples, as in Prometheus
        "-search.disableCache",  # history and rule results arrive out of time order
        # Replayed and live evaluations of the same slice carry the same timestamp: keep one.
        "-dedup.minScrapeInterval=1ms",
        "-loggerLevel=WARN",
    ]
    with spawned(args, log, LIFETIME) as proc:
        server = Storage([proc], url, [log], time.time())
        wait_ready(server, proc, url, "/health")
        yield server


def replay(
    store: Storage,
    rule_file: pathlib.Path,
    start: int,
    end: int,
    interval: str = "60s",
    engine: tools.Engine = tools.VICTORIAMETRICS,
) -> None:
    """Evaluate the rules of ``rule_file`` over [start, end] with ``vmalert -replay.*`` and
    write the results into ``store``; flush so the next level reads them."""
    proc = tools.run(
        engine.tool("vmalert"),
        f"-rule={rule_file}",
        f"-datasource.url={store.url}",
        f"-remoteWrite.url={store.url}",
        f"-replay.timeFrom={_rfc3339(start)}",
        f"-replay.timeTo={_rfc3339(end)}",
        f"-evaluationInterval={interval}",
        "-replay.disableProgressBar",
        "-replay.rulesDelay=0s",  # rules of one level never read each other
        "-replay.ruleEvaluationConcurrency=4",
        "-replay.maxDatapointsPerQuery=10000",
        "-httpListenAddr=127.0.0.1:0",
        "-loggerLevel=WARN",
        timeout=900,
    )
    if proc.returncode != 0:
        raise AssertionError(f"vmalert replay failed:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    store.flush()


@contextlib.contextmanager
def live(
    store: Storage,
    rule_files: list[pathlib.Path],
    work: pathlib.Path,
    evaluation_interval: str = "5s",
    engine: tools.Engine = tools.VICTORIAMETRICS,
) -> Iterator[Server]:
    """Run vmalert on ``rule_files`` against ``store``; yield a :class:`Server` whose queries
    go to victoria-metrics and whose rules and alerts come from vmalert."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = work / "vmalert.log"
    args = [
        str(engine.tool("vmalert")),
        *(f"-rule={p}" for p in rule_files),
        f"-datasource.url={store.url}",
        f"-remoteWrite.url={store.url}",
        "-remoteWrite.flushInterval=1s",
        "-notifier.blackhole",
        f"-evaluationInterval={evaluation_interval}",
        "-rule.evalDelay=0s",  # storage has no latency offset (see storage())
        f"-httpListenAddr=127.0.0.1:{port}",
        "-loggerLevel=INFO",
    ]
    with spawned(args, log) as proc:
        server = Server([proc, store.proc], store.url, [log, store.log], time.time(), url)
        wait_ready(server, proc, url, "/health")
        if store.proc.poll() is not None:
            raise ServerFailed(f"victoria-metrics died:\n{server.tail()}")
        yield server
