"""``make bench``: measure generation and SLO-evaluation cost, write tests/bench/RESULTS.md
(and EXACTNESS.md, SUITE_COST.md from their own modules).

Not a test: nothing here asserts on timing. The numbers come from one run on this machine.
Run as ``python -m tests.bench.run`` (or ``python tests/bench/run.py``) from the repository.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import platform
import sys

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
    __package__ = "tests.bench"

from tests.bench import evaluation, exactness, fleet_evaluation, generation, suite_cost

RESULTS = pathlib.Path(__file__).with_name("RESULTS.md")


def _generation_table(runs: list[generation.Run]) -> list[str]:
    base = runs[0]
    rows = [
        "| Input | Services | Wall time (s) | Per service (ms) | Peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in runs:
        rows.append(
            f"| {r.label} | {r.services} | {r.wall:.2f} | {1000 * r.wall / r.services:.0f} "
            f"| {r.rss_mib:.0f} |"
        )
    big, mid = runs[-1], runs[-2]
    rows += [
        "",
        f"Growth from {mid.services} to {big.services} services: x{big.services / mid.services:.0f}"
        f" services, x{big.wall / mid.wall:.1f} wall time, x{big.rss_mib / mid.rss_mib:.2f} peak"
        f" RSS. The single real spec costs {base.wall:.2f} s, mostly interpreter start-up.",
    ]
    return rows


def _evaluation_tables(ev: dict) -> list[str]:
    shapes: list[evaluation.Shape] = ev["shapes"]
    exact = ev["exact_ratio"]
    rows = [
        "Live rule-group evaluation (median of "
        f"{evaluation.EVALUATIONS} evaluations, `evaluationTime` from `/api/v1/rules`), and the "
        "same group's rule expressions run as instant queries at T (`stats=all`):",
        "",
        "| Shape | Group | Rules | Live eval median (ms) | Queries at T (ms) | Samples at T |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for s in shapes:
        for g in s.groups:
            n = g["name"]
            rows.append(
                f"| {s.name} | `{n}` | {len(g['rules'])} | {s.group_ms[n]:.2f} "
                f"| {s.group_query_ms[n]:.2f} | {s.group_samples[n]} |"
            )
    rows += [
        "",
        "The 30-day period expression alone, at T (median of "
        f"{evaluation.QUERY_REPEATS} queries), against the exact figures:",
        "",
        "| Shape | Reads | Samples touched | Eval (ms) | Error ratio | Budget remaining "
        "| Error vs exact (points) |",
        "|---|---|---:|---:|---:|---:|---:|",
        f"| exact (Python, from the written counts) | — | — | — | {exact:.6f} "
        f"| {evaluation.remaining(exact):.2f} % | 0 |",
    ]
    reads = {
        0: "5m event counts (recorded)",
        1: "5m ratios (recorded)",
        2: "raw counters",
    }
    for i, s in enumerate(shapes):
        err = evaluation.remaining(s.ratio) - evaluation.remaining(exact)
        rows.append(
            f"| {s.name} | {reads[i]} | {s.period_samples} | {s.period_ms:.2f} | {s.ratio:.6f} "
            f"| {evaluation.remaining(s.ratio):.2f} % | {err:+.2f} |"
        )
    ours, sloth, pyrra = shapes

    def total(s: evaluation.Shape) -> float:
        return sum(s.group_ms.values())

    err = {s.name: abs(evaluation.remaining(s.ratio) - evaluation.remaining(exact)) for s in shapes}
    rows += [
        "",
        "Ratios:",
        "",
        f"- ours / Sloth, period expression: x{ours.period_samples / sloth.period_samples:.2f} "
        f"samples, x{ours.period_ms / sloth.period_ms:.2f} eval time; all live groups: "
        f"x{total(ours) / total(sloth):.2f} ({total(ours):.2f} ms vs {total(sloth):.2f} ms; ours "
        f"also records {sum(len(g['rules']) for g in ours.groups)} rules against Sloth's 2).",
        f"- ours / Pyrra, period expression: x{ours.period_samples / pyrra.period_samples:.2f} "
        f"samples, x{ours.period_ms / pyrra.period_ms:.2f} eval time; all live groups: "
        f"x{total(ours) / total(pyrra):.2f}.",
        f"- budget-remaining error (points): ours {err[ours.name]:.2f}, "
        f"Sloth {err[sloth.name]:.2f}, Pyrra {err[pyrra.name]:.2f}.",
        f"- recorded history read by the period rules: ours {ours.history_points} points per "
        f"series (2 series), Sloth {sloth.history_points} (1 series): the 5-minute group "
        "interval was honoured by `promtool tsdb create-blocks-from rules`.",
    ]
    return rows


def render(gen_runs: list[generation.Run], notes: list[str], ev: dict) -> str:
    """Return RESULTS.md for one run's measurements."""
    shapes = ev["shapes"]
    exact = ev["exact_ratio"]
    ours, sloth, pyrra = shapes
    err_ours = evaluation.remaining(ours.ratio) - evaluation.remaining(exact)
    err_sloth = evaluation.remaining(sloth.ratio) - evaluation.remaining(exact)
    end = datetime.datetime.fromtimestamp(ev["end"], datetime.UTC)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    setup = ", ".join(f"{k}: {v:.0f} s" for k, v in ev["timings"].items())
    big, mid = gen_runs[-1], gen_runs[-2]
    lines = [
        "# Benchmark results",
        "",
        "Regenerated by `make bench` (`python -m tests.bench.run`); one run, not an average "
        "across runs. Not a test: nothing asserts on these numbers.",
        "",
        f"- Date: {now}",
        f"- Machine: {os.cpu_count()} CPUs (nproc), {platform.machine()}, "
        f"Python {platform.python_version()}, Prometheus {ev['prometheus']} "
        f"(promtool of the same build)",
        "",
        "## 1. Generation cost",
        "",
        "Whole `python -m generator generate` process, `/usr/bin/time -f '%e %M'`. Synthetic "
        "folders hold copies of `slo_specs/samokoder.yaml` with the service name (and so jobs, "
        "metric prefixes, dashboard uid) replaced.",
        "",
        *_generation_table(gen_runs),
        *([""] + [f"Note: {n}" for n in notes] if notes else []),
        "",
        "## 2. Evaluation cost of a 30-day availability SLO",
        "",
        "One Prometheus server, three rule files side by side, same raw data: "
        f"`{evaluation.BAD}` over `{evaluation.TOTAL}`, 31 days at a 1-minute step "
        f"({ev['raw_samples']} samples, {ev['total']} requests and {ev['bad']} errors in the "
        "30-day window), busy days and quiet nights (nights carry a higher error ratio) and one "
        "busy hour with a 15 % error burst. The recorded 5-minute history the period rules read "
        "(our event counts, Sloth's 5m ratio) was backfilled for the whole 30 days with "
        "`promtool tsdb create-blocks-from rules` before the server started. "
        f"T = {end:%Y-%m-%d %H:%M} UTC (the end of the history). Live copies of every group "
        "evaluate every second (their `interval` removed) so each is timed equally often; the raw "
        "history ends at T, so live 5m raw rates may find no fresh samples, which is why the same "
        f"expressions are also timed as queries at T. Setup: {setup}.",
        "",
        "Shapes: (a) this project's generated `samokoder-slo-event-counts` and "
        "`samokoder-slo-error-ratios` groups, filtered to the availability SLO; (b) Sloth's "
        "default `slo:sli_error:ratio_rate5m` and "
        "`sum_over_time(ratio_rate5m[30d]) / ignoring(sloth_window) count_over_time(...)`; "
        "(c) Pyrra's default `sum(increase(bad[30d])) / sum(increase(total[30d]))` on raw data.",
        "",
        *_evaluation_tables(ev),
        "",
        "## Interpretation",
        "",
        f"Generation grows linearly: {mid.services} to {big.services} services multiplies wall "
        f"time by {big.wall / mid.wall:.1f} for x{big.services / mid.services:.0f} services, "
        f"about {1000 * big.wall / big.services:.0f} ms per service; peak RSS goes from "
        f"{mid.rss_mib:.0f} to {big.rss_mib:.0f} MiB, so one process holds every service's "
        "files in memory before writing them out, about "
        f"{(big.rss_mib - mid.rss_mib) / (big.services - mid.services):.2f} MiB per service. "
        f"Our 30-day period reads {ours.period_samples} recorded samples against Pyrra's "
        f"{pyrra.period_samples} raw ones (x{ours.period_samples / pyrra.period_samples:.2f}); "
        "that gap widens with scrape frequency and with the number of raw series, while ours "
        "stays at two series per SLO. "
        f"Sloth's shape reads {sloth.period_samples} samples "
        f"(ours x{ours.period_samples / sloth.period_samples:.2f}), but it averages 5-minute "
        "ratios, so a quiet night weighs as much as a busy afternoon: with this uneven traffic "
        f"it reports {evaluation.remaining(sloth.ratio):.1f} % budget remaining where the exact "
        f"figure is {evaluation.remaining(exact):.1f} % ({err_sloth:+.1f} points), while our "
        f"traffic-weighted counts are {err_ours:+.2f} points off (the residue of `increase()` "
        "over each 5-minute window). "
        "Pyrra's raw increase is exact here but is the most expensive evaluation and needs the "
        "full 30 days of raw retention.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    """Run the benchmarks, write RESULTS.md and SUITE_COST.md; return the exit status."""
    sizes = tuple(int(x) for x in os.environ.get("BENCH_SIZES", "10,100,1000").split(","))
    print(f"generation: 1 spec, then {sizes} services", flush=True)
    gen_runs, notes = generation.run_all(sizes)
    for r in gen_runs:
        print(f"  {r.label}: {r.wall:.2f} s, {r.rss_mib:.0f} MiB", flush=True)
    print("evaluation: 31 days of history, backfill, live server (several minutes)", flush=True)
    ev = evaluation.run()
    fleet_sizes = tuple(
        int(x) for x in os.environ.get("BENCH_FLEET_SIZES", "10,100,1000").split(",")
    )
    print(f"fleet evaluation: {fleet_sizes} services, live (minutes)", flush=True)
    fleet = fleet_evaluation.run(fleet_sizes)
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS.write_text(
        render(gen_runs, notes, ev) + "\n".join(fleet_evaluation.render(fleet, when))
    )
    print(f"wrote {RESULTS}", flush=True)
    print("period error bound, every rule engine (minutes per Prometheus)", flush=True)
    exactness.main()
    print("generated test-suite cost against SLOs, every engine (several minutes)", flush=True)
    suite_cost.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
