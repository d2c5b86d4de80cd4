"""Property tests: random valid specs make rules promtool accepts and whose own tests pass;
random damage to the Samokoder spec gives a valid generation or a clean error, never a crash.

Example counts are fixed (see the settings) so the suite stays fast; they are the figures
quoted in the README.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import yaml
from cli_support import SAMOKODER, unit_test_failures
from depth import example_engines, examples
from group_order import assert_groups_are_layered
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from yaml_io import load_yaml, spec_text

from generator import tools
from generator.output import write_tree
from generator.plan import service_files
from generator.spec.errors import SpecInvalid
from generator.spec.loader import load_text

# Example counts (deep, quick): tests/depth.py picks by profile.
VALID_EXAMPLES = examples(deep=25, quick=8)
UNIT_TEST_EXAMPLES = examples(deep=8, quick=1)
MUTATION_EXAMPLES = examples(deep=300, quick=50)
TEXT_MUTATION_EXAMPLES = examples(deep=300, quick=50)

ERROR_LINE = re.compile(r"^[^:\n]+:[1-9][0-9]*:[1-9][0-9]*: [^\n]+: [^\n]+$")

# -- random valid specs -----------------------------------------------------------------------

BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
QUANTILES = [0.5, 0.9, 0.95, 0.99]
# From 94 % up: below about 93 %, the 14.4x burn rate would need more than 100 % errors
# (the loader rejects that; tests/fixtures/bad/68-* proves it).
OBJECTIVES = st.one_of(
    st.sampled_from([95, 99, 99.5, 99.9, 99.95, 99.99]),
    st.integers(min_value=9400, max_value=9999).map(lambda n: n / 100),
)


# Selectors as SREs write them: regex jobs, negative and empty-string matchers, several
# matchers on one label, backtick regexes. {job} is the drawn job name.
JOB_SELECTORS = [
    'job="{job}"',
    'job=~"{job}|{job}-canary"',
    'job=~"{job}(-.*)?", job!="{job}-canary"',
    'job=~"{job}", env!=""',
    'job=~`{job}-(api|web)`, instance!~"localhost:.*"',
    'job!~"{job}-canary|", job=~"{job}.*"',
]
# Matchers that pick bad and good requests out of the request counter (each a proper part).
ERROR_MATCHERS = [
    ('code=~"5.."', 'code!~"5.."'),
    ('code=~"5..|429"', 'code!~"5..|429"'),
    ('code=~"5..", code!="503"', 'code!~"5..|"'),
    ("code=~`5\\d\\d`", 'code=~"[1-4].."'),
    ('code!~"[1-4]..", code!=""', 'code=~"[1-4].."'),
]


@st.composite
def valid_specs(draw: st.DrawFn) -> dict:
    """Return a random spec that the loader must accept."""
    slug = draw(st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6})?", fullmatch=True))
    job = draw(st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True))
    prefix = slug.replace("-", "_")
    sel = draw(st.sampled_from(JOB_SELECTORS)).replace("{job}", job)
    bad, good = draw(st.sampled_from(ERROR_MATCHERS))
    metrics: dict = {
        "requests": {
            "name": f"{prefix}_requests_total",
            "type": "counter",
            "selector": sel,
            "breakdowns": draw(st.sampled_from([[], [["method"]], [["code"], ["method", "code"]]])),
        }
    }
    signals: dict = {
        "errors": {
            "kind": "ratio",
            "numerator": {"metric": "requests", "match": bad},
            "denominator": {"metric": "requests"},
            "unit": "percent",
            "help": "Share of requests that failed.",
        }
    }
    slos = [
        {
            "name": "availability",
            "objective": draw(OBJECTIVES),
            "sli": draw(
                st.sampled_from(
                    [
                        {"bad": {"metric": "requests", "match": bad}},
                        {"good": {"metric": "requests", "match": good}},
                    ]
                )
            )
            | {"total": {"metric": "requests"}},
        }
    ]
    if draw(st.booleans()):
        buckets = sorted(draw(st.sets(st.sampled_from(BUCKETS), min_size=1, max_size=5)))
        quantiles = sorted(draw(st.sets(st.sampled_from(QUANTILES), min_size=1, max_size=3)))
        metrics["latency"] = {
            "name": f"{prefix}_request_duration_seconds",
            "type": "histogram",
            "selector": sel,
            "buckets": buckets,
            "quantiles": quantiles,
        }
        slos.append(
            {
                "name": "latency",
                "objective": draw(OBJECTIVES),
                "sli": {
                    "latency": {"metric": "latency", "threshold": draw(st.sampled_from(buckets))}
                },
            }
        )
        signals["latency_p"] = {
            "kind": "quantile",
            "metric": "latency",
            "quantile": draw(st.sampled_from(quantiles)),
            "unit": "seconds",
        }
    if draw(st.booleans()):
        metrics["inflight"] = {
            "name": f"{prefix}_inflight_requests",
            "type": "gauge",
            "selector": sel,
        }
        signals["inflight"] = {"kind": "gauge", "metric": "inflight", "unit": "short"}
    thresholds = []
    for key, sig in sorted(signals.items()):
        if not draw(st.booleans()):
            continue
        if sig["kind"] == "quantile":
            # Levels must sit below the largest bucket, or the alert could never fire.
            levels = [b for b in metrics["latency"]["buckets"][:-1]]
            if not levels:
                continue
            warning = draw(st.sampled_from(levels))
            top = max(levels)
        else:
            top = 99 if sig.get("unit") == "percent" else 10_000  # 100 % is never exceeded
            warning = draw(st.integers(min_value=1, max_value=top // 2))
        row = {
            "alert": "".join(w.capitalize() for w in key.split("_")) + "High",
            "signal": key,
            "warning": warning,
            "for": draw(st.sampled_from(["1m", "5m", "10m"])),
            "summary": draw(st.sampled_from(["It is high.", 'Quote " and {{ braces }} stay.'])),
        }
        if draw(st.booleans()) and warning < top:
            above = [x for x in levels if x > warning] if sig["kind"] == "quantile" else None
            row["critical"] = (
                draw(st.sampled_from(above))
                if above is not None
                else draw(st.integers(min_value=warning + 1, max_value=top))
            )
        thresholds.append(row)
    spec = {
        "service": slug,
        "period": draw(st.sampled_from(["7d", "28d", "30d"])),
        "labels": {"team": draw(st.sampled_from(["core", "pay-ments", 'a "quoted" team']))},
        "metrics": metrics,
        "signals": signals,
        "slos": slos,
        "thresholds": thresholds,
    }
    return spec


def _generated(spec: dict, root: Path) -> Path:
    """Write the files a spec generates under ``root``; return its prometheus/ folder."""
    service = load_text("random.yaml", spec_text(spec))
    write_tree(root, service_files(service))
    return root / service.name / "prometheus"


@settings(max_examples=VALID_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec=valid_specs())
def test_random_valid_specs_make_rules_every_engine_loads(spec: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rules = _generated(spec, Path(tmp))
        assert_groups_are_layered(rules)
        files = sorted(rules.glob("*.yml"))
        for engine in tools.RULE_ENGINES:
            proc = tools.check_rule_files(engine, files)
            assert proc.returncode == 0, f"{engine}:\n{proc.stdout}{proc.stderr}"


@pytest.mark.long(10)
@settings(max_examples=UNIT_TEST_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec=valid_specs())
def test_random_valid_specs_pass_their_own_unit_tests_on_every_engine(spec: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rules = _generated(spec, Path(tmp))
        assert sorted((rules / "tests").glob("*.yml")), "the generator wrote no unit tests"
        # One process per engine, all at once: each run is single-threaded and the SLO
        # suites replay days of samples.
        key = yaml.safe_dump(spec, sort_keys=True)  # each example may pick other engines
        engines = example_engines(key, tools.RULE_ENGINES)
        failed = unit_test_failures(rules / "tests", engines, workers=len(engines))
        assert not failed, "\n".join(failed)


# -- validate ok => generate ok, over random matchers ------------------------------------------

SELECTOR_EXAMPLES = examples(deep=300, quick=100)
# Pieces of RE2 regexes joined at random, and now and then one that breaks them: a Perl
# construct, a stray group, a \d that is no PromQL string escape inside double quotes.
REGEX_ATOMS = ["a", "5", "x", ".", ".*", ".+", "[0-9]", "[^a]", "(a|b)", "?", "*", "{2}",
               "{0,3}", "|", "\\\\d", "(?i)", "[[:alpha:]]", "\\\\Qa.\\\\E", "é", ""]  # fmt: skip
BROKEN_ATOMS = ["\\d", "\\pL", "(?!a)", "(", ")", "\\\\1", "^", "$", "{1001}"]
MATCHERS = st.builds(
    lambda name, op, atoms, quote: f"{name}{op}{quote[0]}{''.join(atoms)}{quote[1]}",
    st.sampled_from(["job", "code", "env"]),
    st.sampled_from(["=", "!=", "=~", "!~"]),
    st.lists(
        st.sampled_from(REGEX_ATOMS) | st.sampled_from(REGEX_ATOMS) | st.sampled_from(BROKEN_ATOMS),
        max_size=4,
    ),
    st.sampled_from(['""', '""', "``", "''"]),
)
SELECTORS = st.lists(MATCHERS, min_size=1, max_size=3).map(", ".join)


@settings(max_examples=SELECTOR_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_selector_validate_accepts_generates(data: st.DataObject) -> None:
    """`validate` ok implies `generate` ok: random matchers (regex, `!=`, `!~`, several on one
    label, unsatisfiable mixes, regexes RE2 refuses) in a metric's selector and in the SLI's
    and the ratio's `match` are either refused with file:line:column or planned in full."""
    spec = data.draw(valid_specs())
    sli = spec["slos"][0]["sli"]
    places = [
        (spec["metrics"]["requests"], "selector"),
        (spec["signals"]["errors"]["numerator"], "match"),
        (sli["bad" if "bad" in sli else "good"], "match"),
    ]
    if "inflight" in spec["metrics"]:
        places.append((spec["metrics"]["inflight"], "selector"))
    # Some of the places get a random selector; the others keep a valid one.
    for i in sorted(data.draw(st.sets(st.integers(0, len(places) - 1), min_size=1))):
        node, key = places[i]
        node[key] = data.draw(SELECTORS)
    event(_generate_or_clean_error(spec_text(spec)))


# -- random damage to a real spec -------------------------------------------------------------

SAMOKODER_TEXT = SAMOKODER.read_text(encoding="utf-8")
SAMOKODER_DATA = load_yaml(SAMOKODER_TEXT)

HOSTILE_TEXT = st.sampled_from(
    ["", " ", "../../etc", "{{ $value }}", 'a"b', "line\nbreak", "x" * 2000, "5 minutes", "-1h",
     "0s", "ünï", "NaN", "job=", 'job="a"', "HighCPUUsage", "availability"]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    HOSTILE_TEXT,
    st.text(max_size=20),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


YAML_SHARDS = ["\t", ":", "- ", "&a ", "*a", "{{", "'", '"', "\n  ", "!!python/object ", "<<: ",
               "\x00", "---\n", "?", "[", "}", "#"]  # fmt: skip


def _mutate(data: object, draw: st.DrawFn) -> object:
    """Return ``data`` with one random node deleted, replaced, duplicated or renamed."""
    if isinstance(data, dict) and data and draw(st.integers(0, 3)) > 0:
        key = draw(st.sampled_from(sorted(data)))
        op = draw(st.sampled_from(["descend", "descend", "delete", "replace", "rename"]))
        out = dict(data)
        if op == "descend":
            out[key] = _mutate(data[key], draw)
        elif op == "delete":
            del out[key]
        elif op == "replace":
            out[key] = draw(VALUES)
        else:
            out[draw(st.sampled_from([key + "s", key[:-1], key.upper(), "x"]))] = out.pop(key)
        return out
    if isinstance(data, list) and data and draw(st.integers(0, 3)) > 0:
        i = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["descend", "descend", "delete", "duplicate", "replace"]))
        out = list(data)
        if op == "descend":
            out[i] = _mutate(data[i], draw)
        elif op == "delete":
            del out[i]
        elif op == "duplicate":
            out.insert(i, data[i])
        else:
            out[i] = draw(VALUES)
        return out
    return draw(VALUES)


def _generate_or_clean_error(text: str) -> str:
    """Load and plan ``text``; return "valid" or "error", failing on anything else."""
    try:
        service = load_text("slo_specs/samokoder.yaml", text)
    except SpecInvalid as exc:
        assert exc.errors
        for error in exc.errors:
            assert ERROR_LINE.match(str(error)), str(error)
        return "error"
    files = service_files(service)
    assert files and all(isinstance(v, bytes) for v in files.values())
    for rel in files:
        assert not rel.startswith(("/", "..")) and ".." not in Path(rel).parts
    return "valid"


@settings(max_examples=MUTATION_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_damaged_samokoder_spec_gives_a_generation_or_a_clean_error(data: st.DataObject) -> None:
    spec = SAMOKODER_DATA
    for _ in range(data.draw(st.integers(1, 3))):
        spec = _mutate(spec, data.draw)
    try:
        text = spec_text(spec)
    except yaml.YAMLError:
        return
    event(_generate_or_clean_error(text))


@settings(
    max_examples=TEXT_MUTATION_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck)
)
@given(data=st.data())
def test_damaged_samokoder_text_gives_a_generation_or_a_clean_error(data: st.DataObject) -> None:
    text = SAMOKODER_TEXT
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["cut", "insert", "duplicate-line"]))
        if op == "cut":
            text = text[:at] + text[at + data.draw(st.integers(1, 40)) :]
        elif op == "insert":
            chunk = data.draw(st.sampled_from(YAML_SHARDS) | st.text(max_size=5))
            text = text[:at] + chunk + text[at:]
        else:
            lines = text.splitlines(keepends=True)
            i = data.draw(st.integers(0, len(lines) - 1))
            text = "".join(lines[: i + 1] + lines[i:])
    event(_generate_or_clean_error(text))
