"""Command line: thin wrappers that load specs, plan files, and write or compare them."""

from __future__ import annotations

import functools
import gc
import os
import sys
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from .spec.errors import SpecError, SpecInvalid

if TYPE_CHECKING:
    from . import output
    from .cache import Cache, Entry
    from .parallel import Helper
    from .spec.model import Service

# The planners (grafanalib, Jinja2, the deploy targets) and the writer are imported
# where they are first used, after the specs have loaded: a spec with a mistake is reported
# without paying for them, which is most of the cost of a short run such as a pre-commit
# hook's `validate` on the one spec that changed. The loader (jsonschema) is imported when
# the first spec loads, after `generate` has forked the helper that plans a lone spec's
# dashboard and docs, so that neither process waits for the other's imports.

EXIT_INVALID = 2

# CPython's cyclic collector examines the young objects after every 700 net allocations.
# Planning allocates millions of short-lived, acyclic dicts and strings, so it ran often and
# found little: 13 % of a service's plan (Samokoder, min of 7: 122 to 106 ms). At 10,000 the
# young generation is still collected, 14 times less often; memory stays bounded
# (tests/test_generation_memory.py).
GC_THRESHOLDS = (10_000, 50, 50)


SPEC_SUFFIXES = (".yaml", ".yml")  # what the shipped pre-commit hook fires on, too


def _spec_paths(spec_dir: Path, only: tuple[Path, ...]) -> list[Path]:
    """Return the spec files to read: ``only``, else every ``*.yaml`` and ``*.yml`` file in
    ``spec_dir``. Raises SpecInvalid, naming the folder given, when there is none."""
    if only:
        return _named_in_utf8(list(only))
    if not spec_dir.is_dir():
        where, why = _display(spec_dir), "no such folder; expected one <service>.yaml per service"
        raise SpecInvalid([SpecError(where, 1, 1, "(top level)", why)])
    paths = sorted(
        (p for p in spec_dir.iterdir() if p.suffix in SPEC_SUFFIXES and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    if not paths:
        where = _display(spec_dir)
        why = "no spec found: the folder holds no *.yaml or *.yml file"
        raise SpecInvalid([SpecError(where, 1, 1, "(top level)", why)])
    return _named_in_utf8(paths)


def _named_in_utf8(paths: list[Path]) -> list[Path]:
    """Return ``paths``; raise SpecInvalid for each whose name is not UTF-8 (Linux allows any
    bytes): a spec's name (or an imported file's) is written into the header of every file
    made from it, and YAML is UTF-8.
    The error shows the name's undecodable bytes as ``\\xff``."""
    errors = []
    for path in paths:
        shown = _display(path)
        try:
            shown.encode("utf-8")
        except UnicodeEncodeError:
            printable = shown.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            why = "the file name is not valid UTF-8; rename the file"
            errors.append(SpecError(printable, 1, 1, "(top level)", why))
    if errors:
        raise SpecInvalid(errors)
    return paths


def _load_one(spec: tuple[Path, bytes | None]) -> Service | list[SpecError]:
    """Return the Service of the spec at ``spec[0]`` (whose bytes are ``spec[1]`` when they
    were read already), or its problems."""
    from .spec.loader import load

    path, raw = spec
    try:
        return load(_display(path), raw)
    except SpecInvalid as exc:
        return exc.errors


def _load_all(
    paths: list[Path],
    jobs: int | None = None,
    known: dict[str, Service] | None = None,
    read: dict[str, bytes] | None = None,
) -> list[Service]:
    """Return the Service of every spec in ``paths`` (in order), read and checked by
    ``jobs`` processes (default: every core); ``known`` holds services already loaded, and
    ``read`` the bytes of specs already read (so that a spec is parsed from the bytes the
    cache keyed it by, even if the file changes meanwhile), by the source they report.
    Raises SpecInvalid listing every problem of every spec, and each service name that two
    specs claim."""
    known, read = known or {}, read or {}
    missing = [(p, read.get(_display(p))) for p in paths if _display(p) not in known]
    loaded: dict[Path, Service | list[SpecError]] = {}
    if missing:
        from .parallel import cores, ordered_map
        from .spec import loader  # noqa: F401  imported once, before the workers fork

        results = ordered_map(_load_one, missing, jobs or cores())
        loaded = {path: result for (path, _), result in zip(missing, results, strict=True)}
    services, errors = [], []
    for path in paths:
        result = loaded[path] if path in loaded else known[_display(path)]
        if isinstance(result, list):
            errors.extend(result)
        else:
            services.append(result)
    names: dict[str, str] = {}
    for s in services:
        if s.name in names:
            errors.append(
                SpecError(
                    s.source, 1, 1, "service", f"{s.name!r} is also the service of {names[s.name]}"
                )
            )
        names[s.name] = s.source
    if errors:
        raise SpecInvalid(errors)
    return services


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _fail(exc: SpecInvalid) -> None:
    for error in exc.errors:
        click.echo(str(error), err=True)
    click.echo(f"{len(exc.errors)} problem(s); nothing was written.", err=True)
    sys.exit(EXIT_INVALID)


def _plan_service(service: Service, helper: Helper | None = None) -> output.Files | SpecError:
    """Return one service's files, or the spec error that stops its promtool tests; with
    ``helper``, a second process plans its dashboard and deploy targets meanwhile."""
    from .plan import service_files

    return _refused(functools.partial(service_files, helper=helper), service)


def _check_service(service: Service) -> SpecError | None:
    """Run the planners of one service that can refuse its spec (``plan.test_suites``);
    return the spec error that stops its promtool tests, if any."""
    from .plan import test_suites

    found = _refused(test_suites, service)
    return found if isinstance(found, SpecError) else None


def _refused(planner, service: Service):
    """Return ``planner(service)``, or the spec error it raised: a check that no synthetic
    series can drive."""
    from .prometheus.synthetic import UntestableSpec

    try:
        return planner(service)
    except UntestableSpec as exc:
        message = f"cannot generate the promtool tests: {exc}"
        return SpecError(service.source, 1, 1, "(top level)", message)


def planned(
    services: list[Service],
    jobs: int | None = None,
    plan=_plan_service,
    skip: Collection[str] = (),
) -> Iterator[output.Files]:
    """Yield each service's generated files (by service name), then the files they share,
    keyed by path under ``out/``; planned by ``jobs`` processes (default: every core).
    The services named in ``skip`` are not planned, though the shared files count them.

    One service's files are in memory at a time per process. Raises SpecInvalid, after
    every service was planned, listing each spec whose files cannot be generated; the
    files yielded before then must be discarded. ``plan``: the per-service planner,
    :func:`_check_service` to only check what can refuse a spec (it yields None).
    """
    from .parallel import cores, ordered_map
    from .plan import shared_files

    ordered = sorted((s for s in services if s.name not in skip), key=lambda s: s.name)
    errors: list[SpecError] = []
    for result in ordered_map(plan, ordered, jobs or cores()):
        if isinstance(result, SpecError):
            errors.append(result)
        elif not errors:
            yield result
    if errors:
        raise SpecInvalid(errors)
    yield shared_files(services)


spec_dir_option = click.option(
    "--spec-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("slo_specs"),
    show_default=True,
    help="Folder holding one <service>.yaml per service.",
)
spec_option = click.option(
    "--spec",
    "specs",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Only this spec file (repeatable). Default: every spec in --spec-dir.",
)
out_option = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Output folder; each service is written to <out>/<service>/.",
)
jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Plan services in this many processes (`generate` with one spec: its dashboard, docs "
    "and deploy targets in a second one). Default: one per CPU.",
)


def run() -> NoReturn:
    """Run the command line (``python -m generator``, ``slo-generator``) and exit without
    the interpreter's teardown, which frees every module and object one by one: about
    50 ms of a one-spec run (0.48 against 0.41 s, median of 20 runs). By then the command's
    files are written and swapped in; its output is flushed here."""
    status: int | str | None = 0
    try:
        main(prog_name="slo-generator")
    except SystemExit as exc:
        status = exc.code
    if isinstance(status, str) and sys.stderr is not None:  # what sys.exit("message") prints
        print(status, file=sys.stderr)
    code = status if isinstance(status, int) else 0 if status is None else 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: started with the descriptor closed
                stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): as Python's own exit does
            code = code or 120
    os._exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Generate a service's monitoring from its SLO spec.

    Reads slo_specs/<service>.yaml and writes Prometheus recording and alert rules,
    promtool unit tests and more to out/<service>/. Problems in a spec are reported as
    file:line:column with exit status 2, and out/ is left untouched.
    """
    gc.set_threshold(*GC_THRESHOLDS)


@main.command()
@spec_dir_option
@spec_option
@jobs_option
def validate(spec_dir: Path, specs: tuple[Path, ...], jobs: int | None) -> None:
    """Check specs and report every problem; write nothing.

    Runs every planner that can refuse a spec as `generate` would (the generated tests' and
    the shared files'), so whatever `generate` would refuse fails here too.
    """
    try:
        services = _load_all(_spec_paths(spec_dir, specs), jobs)
        for _ in planned(services, jobs, _check_service):
            pass
    except SpecInvalid as exc:
        _fail(exc)
    for s in services:
        click.echo(f"{s.source}: ok ({len(s.slos)} SLOs, {len(s.thresholds)} thresholds)")


cache_option = click.option(
    "--cache/--no-cache",
    default=True,
    show_default=True,
    envvar="SLO_GENERATOR_CACHE",
    help="Reuse a service's files in the output folder when its spec, the generator and "
    "its libraries are unchanged since the run that wrote them, and the files are "
    "untouched (checked by SHA-256). The cache is in $XDG_CACHE_HOME/slo-generator. "
    "SLO_GENERATOR_CACHE=0 in the environment is --no-cache.",
)


@main.command()
@spec_dir_option
@spec_option
@out_option
@jobs_option
@cache_option
def generate(
    spec_dir: Path, specs: tuple[Path, ...], out: Path, jobs: int | None, cache: bool
) -> None:
    """Write every artifact to the output folder, atomically.

    With --spec, only those services are replaced and the others are kept; without it,
    out/ is made to hold exactly what the specs generate (stale files are removed).
    Services are written as they are planned; the tree is swapped in once, at the end.
    """
    from . import parallel, presentation

    try:
        paths = _spec_paths(spec_dir, specs)
    except SpecInvalid as exc:
        _fail(exc)
    # One spec (a pre-commit hook's run) is planned on two cores: a helper forked now
    # imports the dashboard's and deploy targets' planners while this process loads the
    # spec, then plans those files while this one plans the rules, their tests and the docs.
    # It is forked before the cache is read, which its imports would otherwise wait for; an
    # unchanged spec leaves it unused, and it is killed at once.
    workers = (jobs or parallel.cores()) if len(paths) == 1 else 1
    with parallel.helper(presentation.planners, workers) as helper:
        store, reused = _cached(paths, out, cache)
        if reused and helper is not None:
            helper.close()
            helper = None
        _generate(paths, bool(specs), out, jobs, helper, store, reused)


def _cached(paths: list[Path], out: Path, cache: bool) -> tuple[Cache | None, dict[str, Entry]]:
    """Return the cache of ``out`` (None without ``cache``) and its entries for the specs
    at ``paths`` that are unchanged since they were recorded, by source."""
    from .cache import Cache, default_folder

    if not cache:
        return None, {}
    store = Cache(default_folder(), out)
    return store, store.lookup({_display(p): p for p in paths})


def _load_cached(
    paths: list[Path], jobs: int | None, store: Cache | None, reused: dict[str, Entry]
) -> list[Service]:
    """:func:`_load_all` with the cache: the services of ``reused`` entries are taken from
    them, and the other specs are parsed from the bytes ``store`` keyed them by."""
    known = {source: entry.service for source, entry in reused.items()}
    return _load_all(paths, jobs, known, store.specs if store is not None else None)


def _generate(
    paths: list[Path],
    only: bool,
    out: Path,
    jobs: int | None,
    helper: Helper | None,
    store: Cache | None = None,
    reused: dict[str, Entry] | None = None,
) -> None:
    """Load the specs at ``paths`` and write what they generate to ``out`` (with ``only``,
    just their services' folders); report a problem and exit 2, leaving out/ as it was.
    ``reused``: the cache's entries of unchanged specs (by source), whose services are not
    loaded, and not planned where ``out`` still holds their files; ``store`` records what
    the others generated."""
    reused = reused or {}
    try:
        services = _load_cached(paths, jobs, store, reused)
    except SpecInvalid as exc:
        _fail(exc)
    from . import output
    from .alertmanager_config import FILE as ALERTMANAGER_FILE
    from .grafana.provisioning import TREE
    from .parallel import WorkerDied

    regenerated = {s.name for s in services}
    # The shared files need every spec: with --spec an existing shared tree (or file) is kept.
    kept = {top for top in (TREE, ALERTMANAGER_FILE) if only and (out / top).exists()}
    written = carried = 0
    unchanged: set[str] = set()
    try:
        with output.replacing(out, only=regenerated if only else None) as stage:
            unchanged = stage.reuse({e.service.name: e.digests for e in reused.values()})
            carried = sum(len(e.digests) for e in reused.values() if e.service.name in unchanged)
            plan = functools.partial(_plan_service, helper=helper)
            for files in planned(services, jobs, plan, skip=unchanged):
                if kept:
                    files = {p: v for p, v in files.items() if p.split("/", 1)[0] not in kept}
                stage.add(files)
                written += len(files)
    except SpecInvalid as exc:
        _fail(exc)
    except WorkerDied:
        why = "a planning process died (killed, or out of memory; try --jobs 1)"
        click.echo(f"{out}: cannot write: {why}; {out}/ was left as it was.", err=True)
        sys.exit(EXIT_INVALID)
    except (OSError, output.OutputError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        where = exc.filename if isinstance(exc, OSError) and exc.filename else out
        click.echo(
            f"{output.shown(where, out)}: cannot write: {reason}; {out}/ was left as it was.",
            err=True,
        )
        sys.exit(EXIT_INVALID)
    if store is not None:
        store.store((s for s in services if s.name not in unchanged), stage.digests)
        if not only:
            store.prune(_display(p) for p in paths)
    names = ", ".join(sorted(regenerated))
    note = f"; kept {carried} files of {len(unchanged)} unchanged service(s)" if carried else ""
    click.echo(f"wrote {written} files for {names} to {out}/{note}")


@main.command()
@spec_dir_option
@out_option
@jobs_option
@cache_option
def check(spec_dir: Path, out: Path, jobs: int | None, cache: bool) -> None:
    """Fail (exit 1) with a diff when the committed output is not what the specs generate.

    With the cache, a service whose spec and generator are unchanged since its entry was
    recorded is not planned when out/<service>/ holds exactly the recorded files."""
    import hashlib

    from . import output

    seen: set[str] = set()
    changed = 0
    digests: dict[str, bytes] = {}
    try:
        paths = _spec_paths(spec_dir, ())
        store, reused = _cached(paths, out, cache)
        services = _load_cached(paths, jobs, store, reused)
        wanted = {e.service.name: e.digests for e in reused.values()}
        unchanged = set(output.holding(out, wanted))
        seen.update(p for name in unchanged for p in wanted[name])
        for files in planned(services, jobs, skip=unchanged):
            for path, want in sorted(files.items()):
                seen.add(path)
                digests[path] = hashlib.sha256(want).digest()
                have = out / path
                changed += _report_stale(path, want, have.read_bytes() if have.is_file() else b"")
    except SpecInvalid as exc:
        _fail(exc)
    for path in sorted(output.read_paths(out) - seen):  # no spec generates these any more
        changed += _report_stale(path, b"", (out / path).read_bytes())
    if store is not None:  # what each planned spec generates, whether out/ holds it or not
        store.store((s for s in services if s.name not in unchanged), digests)
    if not changed:
        note = f"; {len(unchanged)} unchanged service(s) checked by digest" if unchanged else ""
        click.echo(f"{out}/ is up to date ({len(seen)} files{note}).")
        return
    click.echo(
        f"\n{changed} file(s) in {out}/ are stale: run `make generate` and commit.", err=True
    )
    sys.exit(1)


def _report_stale(path: str, want: bytes, have: bytes) -> int:
    """Print the unified diff of a stale file; return 1 if it is stale, else 0."""
    import difflib

    if want == have:
        return 0
    old = have.decode("utf-8", "replace").splitlines(keepends=True)
    new = want.decode("utf-8", "replace").splitlines(keepends=True)
    sys.stdout.writelines(difflib.unified_diff(old, new, f"committed/{path}", f"generated/{path}"))
    return 1


@main.command("diff")
@out_option
@click.option(
    "--base",
    metavar="REF",
    help="Git ref to compare with. Default: the merge base with main, else HEAD.",
)
def diff_command(out: Path, base: str | None) -> None:
    """Print a Markdown review of how out/ changed since a git ref.

    Exit status: 0 no change, 1 changed, 2 error.
    """
    from .diff import DiffError, diff  # only this command needs git and the differ

    try:
        text, _ = diff(out, base)
    except DiffError as exc:
        click.echo(f"diff: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    except Exception as exc:  # exit 1 means "changed": a failure must never look like one
        click.echo(f"diff: cannot compare {out}/: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    if text is None:
        click.echo(f"No change in {out}/.")
        return
    click.echo(text, nl=False)
    sys.exit(1)


@main.group("import")
def import_group() -> None:
    """Translate another tool's SLO spec into this project's spec format.

    Writes the equivalent spec to stdout, or to -o FILE. A field with no equivalent is
    reported as file:line:column with exit status 2, and nothing is written.
    """


_import_output = click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the spec here instead of stdout; a folder gets one <service>.yaml per service.",
)


@import_group.command("sloth")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_import_output
def import_sloth(file: Path, output: Path | None) -> None:
    """A Sloth spec: `version: prometheus/v1` (any number of YAML documents) or the
    Kubernetes PrometheusServiceLevel resource."""
    from .importers import sloth

    _write_imported(sloth.import_file, "Sloth", file, output)


@import_group.command("openslo")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_import_output
def import_openslo(file: Path, output: Path | None) -> None:
    """OpenSLO v1 documents: SLO, SLI, AlertPolicy and AlertCondition (Prometheus queries)."""
    from .importers import openslo

    _write_imported(openslo.import_file, "OpenSLO", file, output)


def _write_imported(convert, kind: str, file: Path, output: Path | None) -> None:
    """Convert ``file``, check every spec loads as `validate` would, then write them."""
    from .importers.writer import to_yaml
    from .spec.loader import load_text

    try:
        _named_in_utf8([file])
        imported = convert(_display(file))
        texts = [(s["service"], to_yaml(s, f"{_display(file)} ({kind})")) for s in imported.specs]
        for service, text in texts:
            try:
                load_text(f"{service}.yaml (imported from {_display(file)})", text)
            except SpecInvalid as exc:
                raise SpecInvalid(imported.relocate(service, exc.errors)) from None
    except SpecInvalid as exc:
        _fail(exc)
    for note in imported.notes:
        click.echo(str(note), err=True)
    if output is None:
        click.echo("---\n".join(text for _, text in texts), nl=False)
        return
    if len(texts) > 1 and not output.is_dir():
        names = ", ".join(s for s, _ in texts)
        click.echo(f"{output}: {len(texts)} services ({names}): give -o a folder", err=True)
        sys.exit(EXIT_INVALID)
    targets = [(output / f"{s}.yaml" if output.is_dir() else output, t) for s, t in texts]
    try:
        for target, text in targets:
            target.write_text(text, encoding="utf-8")
    except OSError as exc:
        click.echo(f"{exc.filename or output}: cannot write: {exc.strerror}", err=True)
        sys.exit(EXIT_INVALID)
    for target, _ in targets:
        click.echo(f"wrote {target}", err=True)
