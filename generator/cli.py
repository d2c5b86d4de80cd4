"""Command line: thin wrappers that load specs, plan files, and write or compare them."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from . import output
from .diff import DiffError, diff
from .grafana.provisioning import TREE
from .plan import service_files, shared_files
from .prometheus.synthetic import UntestableSpec
from .spec.errors import SpecError, SpecInvalid
from .spec.loader import load
from .spec.model import Service

EXIT_INVALID = 2


SPEC_SUFFIXES = (".yaml", ".yml")  # what the shipped pre-commit hook fires on, too


def _spec_paths(spec_dir: Path, only: tuple[Path, ...]) -> list[Path]:
    """Return the spec files to read: ``only``, else every ``*.yaml`` and ``*.yml`` file in
    ``spec_dir``. Raises SpecInvalid, naming the folder given, when there is none."""
    if only:
        return list(only)
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
    return paths


def _load_all(paths: list[Path]) -> list[Service]:
    services, errors = [], []
    for path in paths:
        try:
            services.append(load(_display(path)))
        except SpecInvalid as exc:
            errors.extend(exc.errors)
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


def plan_all(services: list[Service]) -> output.Files:
    """Return every generated file of every service, keyed by its path under ``out/``."""
    files: output.Files = {}
    for service in sorted(services, key=lambda s: s.name):
        try:
            files.update(service_files(service))
        except UntestableSpec as exc:
            message = f"cannot generate the promtool tests: {exc}"
            raise SpecInvalid([SpecError(service.source, 1, 1, "(top level)", message)]) from None
    files.update(shared_files(services))
    return files


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Generate a service's monitoring from its SLO spec.

    Reads slo_specs/<service>.yaml and writes Prometheus recording and alert rules,
    promtool unit tests and more to out/<service>/. Problems in a spec are reported as
    file:line:column with exit status 2, and out/ is left untouched.
    """


@main.command()
@spec_dir_option
@spec_option
def validate(spec_dir: Path, specs: tuple[Path, ...]) -> None:
    """Check specs and report every problem; write nothing.

    Plans every file as `generate` would, so whatever `generate` would refuse fails here too.
    """
    try:
        services = _load_all(_spec_paths(spec_dir, specs))
        plan_all(services)
    except SpecInvalid as exc:
        _fail(exc)
    for s in services:
        click.echo(f"{s.source}: ok ({len(s.slos)} SLOs, {len(s.thresholds)} thresholds)")


@main.command()
@spec_dir_option
@spec_option
@out_option
def generate(spec_dir: Path, specs: tuple[Path, ...], out: Path) -> None:
    """Write every artifact to the output folder, atomically.

    With --spec, only those services are replaced and the others are kept; without it,
    out/ is made to hold exactly what the specs generate (stale files are removed).
    """
    try:
        services = _load_all(_spec_paths(spec_dir, specs))
        files = plan_all(services)
    except SpecInvalid as exc:
        _fail(exc)
    regenerated = {s.name for s in services}
    if specs and (out / TREE).exists():  # shared files need every spec: --spec keeps them
        files = {p: v for p, v in files.items() if p.split("/", 1)[0] in regenerated}
    try:
        output.replace_tree(out, files, only=regenerated if specs else None)
    except (OSError, output.OutputError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        where = exc.filename if isinstance(exc, OSError) and exc.filename else out
        click.echo(f"{where}: cannot write: {reason}; {out}/ was left as it was.", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"wrote {len(files)} files for {', '.join(sorted(regenerated))} to {out}/")


@main.command()
@spec_dir_option
@out_option
def check(spec_dir: Path, out: Path) -> None:
    """Fail (exit 1) with a diff when the committed output is not what the specs generate."""
    try:
        want = plan_all(_load_all(_spec_paths(spec_dir, ())))
    except SpecInvalid as exc:
        _fail(exc)
    have = output.read_tree(out)
    stale = sorted(set(want) | set(have))
    changed = [p for p in stale if want.get(p) != have.get(p)]
    if not changed:
        click.echo(f"{out}/ is up to date ({len(want)} files).")
        return
    for path in changed:
        old = have.get(path, b"").decode("utf-8", "replace").splitlines(keepends=True)
        new = want.get(path, b"").decode("utf-8", "replace").splitlines(keepends=True)
        sys.stdout.writelines(
            difflib.unified_diff(old, new, f"committed/{path}", f"generated/{path}")
        )
    click.echo(
        f"\n{len(changed)} file(s) in {out}/ are stale: run `make generate` and commit.", err=True
    )
    sys.exit(1)


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
