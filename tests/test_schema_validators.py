"""The spec's two JSON Schema validators (generator/spec/loader.py), and the rule that joins
them: a spec fits the schema when jsonschema-rs accepts it and, for text that Python's
``re`` may refuse where ECMA-262 accepts (``python_stricter``), the jsonschema package
accepts it too.

- The dialects: for every pattern of the schema and every code point, jsonschema-rs
  (ECMA-262) and Python's ``re`` (the jsonschema package) agree on text that
  ``dialect_sensitive`` does not flag, and off ``python_stricter`` text jsonschema-rs never
  accepts what Python refuses. That is what lets jsonschema-rs decide alone.
- The decision: on every spec of the corpus (good, bad, hostile) and on random damage to
  Samokoder's spec (a value replaced by any JSON value, a field removed or added, text with
  a final newline or a character the dialects read differently), ``schema_errors`` finds a
  problem exactly when one of the two validators refuses the spec.
- The words: each refusal, including those only jsonschema-rs makes, gets the field's own
  sentence, at the field (a key at the key).
"""

from __future__ import annotations

import copy
import functools
import re

import depth
import jsonschema
import jsonschema_rs
import pytest
from cli_support import ROOT, SAMOKODER, run_cli_in_process
from depth import draws
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.spec import loader
from generator.spec.yaml_source import Source, read

SCHEMA = loader.schema()
DECIDER = jsonschema_rs.validator_for(SCHEMA)
EXPLAINER = jsonschema.Draft202012Validator(SCHEMA)
DIALECT = loader._WIDER_PYTHON_SPACE | loader._WIDER_ECMA_SPACE | {"\n"}
CORPUS = sorted(
    p
    for folder in ("bad", "hostile", "specs", "packing", "native")
    for p in (ROOT / "tests" / "fixtures" / folder).rglob("*.yaml")
) + sorted((ROOT / "slo_specs").glob("*.yaml"))


@functools.cache
def _data(path) -> object | None:
    try:
        source, _ = read(str(path), path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, RecursionError):
        return None
    return None if source is None else source.data


def assert_decided(data: object) -> None:
    """``schema_errors`` refuses ``data`` exactly when either validator does; the validators
    disagree only on dialect-sensitive text."""
    try:
        decided: bool | None = DECIDER.is_valid(data)
    except ValueError:  # a type JSON lacks (a date, a non-text key): the explainer alone
        decided = None
    explained = not any(True for _ in EXPLAINER.iter_errors(data))
    fits = explained if decided is None else decided and explained
    found = loader.schema_errors(Source("spec.yaml", data, {}))
    assert (found == []) == fits, f"{found} for {data!r}"[:3000]
    if decided is not None and not loader._holds_text(data, loader.dialect_sensitive):
        assert decided == explained, f"the validators disagree on {data!r}"[:3000]


def test_the_corpus_is_read() -> None:
    readable = [p for p in CORPUS if _data(p) is not None]
    assert len(readable) >= 120, len(readable)
    assert any(not DECIDER.is_valid(_data(p)) for p in readable)
    assert any(DECIDER.is_valid(_data(p)) for p in readable)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_validators_agree_on_the_corpus(path) -> None:
    data = _data(path)
    if data is not None:
        assert_decided(data)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.text(max_size=12).map(lambda t: t + "\n")
    | st.sampled_from(["", "5m", "page", "99.9", "samokoder", "a b", "https://x/", "/etc/x"])
    | st.sampled_from(sorted(DIALECT)).map(lambda c: f"https://x/{c}y")
    | st.sampled_from(sorted(DIALECT)).map(lambda c: f"on{c}call@example.org")
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
BASE = _data(SAMOKODER)


def _paths(node: object, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*path, i))
    return out


PATHS = _paths(BASE)[1:]


def _damaged(path: tuple, action: str, value: object, key: str) -> object:
    data = copy.deepcopy(BASE)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "remove":
        del parent[last]
    elif isinstance(parent[last], dict):
        parent[last][key] = value
    elif isinstance(parent[last], list):
        parent[last].append(value)
    else:
        parent[last] = value
    return data


@settings(**draws(deep=2000, quick=300), deadline=None, suppress_health_check=list(HealthCheck))
@given(
    damage=st.lists(
        st.tuples(
            st.sampled_from(PATHS),
            st.sampled_from(["replace", "remove", "add"]),
            VALUES,
            st.text(max_size=8) | st.sampled_from(["objective", "for", "severity", "labels"]),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_the_validators_agree_on_damaged_specs(damage) -> None:
    for path, action, value, key in damage:
        assert_decided(_damaged(path, action, value, key))


SLUG = (
    "is not valid: a service name is a slug: lower-case letters, digits and '-', starting "
    "with a letter"
)


@pytest.mark.parametrize("other_mistake", [False, True])
def test_a_final_newline_in_a_patterned_field_is_refused_with_its_sentence(
    tmp_path, other_mistake: bool
) -> None:
    """Python's re (the jsonschema package) accepts 'samokoder\\n' for ^[a-z][a-z0-9-]{0,62}$;
    the error is reported alone and beside a mistake both validators find."""
    text = SAMOKODER.read_text(encoding="utf-8")
    text = text.replace("\nservice: samokoder\n", '\nservice: "samokoder\\n"\n', 1)
    if other_mistake:
        text = text.replace("\nperiod: 30d\n", "\nperiod: 30d\nperiode: 30d\n", 1)
    spec = tmp_path / "newline.yaml"
    spec.write_text(text, encoding="utf-8")
    proc = run_cli_in_process("validate", "--spec", spec)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert f"{spec}:6:1: service: 'samokoder\\n' {SLUG}" in lines, lines
    assert len(lines) == 2 + other_mistake, lines
    if other_mistake:
        assert any("unknown field 'periode'" in line for line in lines), lines


def _patterns(node: object = SCHEMA) -> set[str]:
    if isinstance(node, dict):
        return {p for k, v in node.items() for p in ({v} if k == "pattern" else _patterns(v))}
    if isinstance(node, list):
        return {p for v in node for p in _patterns(v)}
    return set()


PATTERNS = sorted(_patterns())


def _texts(node: object) -> set[str]:
    if isinstance(node, dict):
        return {t for k, v in node.items() for t in (_texts(k) | _texts(v))}
    if isinstance(node, list):
        return {t for v in node for t in _texts(v)}
    return {node} if isinstance(node, str) else set()


CORPUS_TEXTS = sorted(
    {t for path in CORPUS if (data := _data(path)) is not None for t in _texts(data)},
    key=lambda t: (len(t), t),
)
# Every BMP code point and every 97th astral one under `make deep`; under `make test` the first
# 0x3100 (Latin, the C0 and C1 controls, every Unicode space but U+FEFF) and every 7th after,
# U+FEFF included.
if depth.PROFILE == "quick":
    WANTED = [*range(0x3100), *range(0x3100, 0x10000, 7), 0xFEFF, 0x10FFFF]
else:
    WANTED = [*range(0x10000), *(c for c in range(0x10000, 0x110000) if c % 97 == 0)]
CODE_POINTS = [c for c in WANTED if not 0xD800 <= c <= 0xDFFF]


@pytest.mark.deep
@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_dialects_agree_off_the_sensitive_characters(pattern: str) -> None:
    """For one text of the corpus that the pattern accepts (or none), every code point put
    before it, in its middle, at its end: ECMA-262 (jsonschema-rs) and Python's ``re`` agree
    unless ``dialect_sensitive`` flags the text. jsonschema-rs's answers come in one call,
    over an array of every variant."""
    compiled = re.compile(pattern)
    example = next((t for t in CORPUS_TEXTS if compiled.search(t)), "")
    half = len(example) // 2
    variants = [
        text
        for c in map(chr, CODE_POINTS)
        for text in (c + example, example[:half] + c + example[half:], example + c)
    ]
    refused = {
        e.instance_path[0]
        for e in jsonschema_rs.validator_for({"items": {"pattern": pattern}}).iter_errors(variants)
    }
    differ = [
        text
        for i, text in enumerate(variants)
        if (i not in refused) != bool(compiled.search(text)) and not loader.dialect_sensitive(text)
    ]
    assert differ == [], [ascii(t) for t in differ[:20]]
    # What lets jsonschema-rs decide alone: off Python's wider spaces, it accepts nothing
    # that Python refuses (a final newline and U+FEFF only make it stricter).
    laxer = [
        text
        for i, text in enumerate(variants)
        if i not in refused and not compiled.search(text) and not loader.python_stricter(text)
    ]
    assert laxer == [], [ascii(t) for t in laxer[:20]]


@pytest.mark.parametrize("char", sorted(DIALECT), ids=ascii)
def test_each_flagged_character_is_read_differently(char: str) -> None:
    """The lists are not wider than the dialects' difference, and each is on its side: a
    character of Python's wider ``\\s`` is refused by Python only; U+FEFF and a final
    newline by ECMA-262 (jsonschema-rs) only."""
    url = "^https?://[^\\s{}]+$"
    text = "http://a\n" if char == "\n" else f"http://a{char}b"
    ecma = jsonschema_rs.validator_for({"pattern": url}).is_valid(text)
    python = bool(re.search(url, text))
    assert (ecma, python) == ((True, False) if loader.python_stricter(text) else (False, True))


def test_every_pattern_has_a_sentence() -> None:
    deploy = {p for p in _patterns(SCHEMA["$defs"]["deploy"]) if p not in loader._PATTERN_RULES}
    assert set(PATTERNS) - deploy <= set(loader._PATTERN_RULES), sorted(
        set(PATTERNS) - deploy - set(loader._PATTERN_RULES)
    )
    assert set(loader._PATTERN_RULES) <= set(PATTERNS), "a sentence for a pattern now gone"


BASE_TEXT = SAMOKODER.read_text(encoding="utf-8")
# (what is replaced, by what, the error line expected after the file name)
REFUSED = {
    "url-fs": (
        "grafana_url: https://grafana.samokoder.example\n",
        'grafana_url: "https://grafana.samokoder.example/\\x1cx"\n',
        "15:1: grafana_url: 'https://grafana.samokoder.example/\\x1cx' is not valid: "
        + loader.URL_RULE,
    ),
    "email-nel": (
        "    to: oncall@samokoder.example\n",
        '    to: "oncall\\N@samokoder.example"\n',
        "273:5: routing.email.to: 'oncall\\x85@samokoder.example' is not valid: an e-mail "
        "address is one name@domain, without spaces, quotes or angle brackets",
    ),
    "secret-us": (
        "    bot_token_file: /etc/alertmanager/secrets/telegram_bot_token\n",
        '    bot_token_file: "/etc/alertmanager/secrets/telegram\\x1fbot_token"\n',
        "271:5: routing.telegram.bot_token_file: '/etc/alertmanager/secrets/telegram\\x1fbot_"
        "token' is not valid: a secret file is an absolute path (starting with '/') to a file, "
        "without spaces, not ending in '/'",
    ),
    "key-newline": (
        "labels:\n  team: samokoder\n",
        'labels:\n  "team\\n": samokoder\n',
        "17:3: labels['team\\n']: 'team\\n' is not valid: use letters, digits and '_', "
        "starting with a letter",
    ),
    "bom-in-sli-metric": (
        "bad: {metric: http_requests, match:",
        'bad: {metric: "http_requests\\uFEFF", match:',
        None,  # located by the test below
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_dialect_sensitive_text_is_refused_with_the_fields_sentence(case: str, tmp_path) -> None:
    old, new, want = REFUSED[case]
    assert old in BASE_TEXT, old
    spec = tmp_path / "spec.yaml"
    spec.write_text(BASE_TEXT.replace(old, new, 1), encoding="utf-8")
    proc = run_cli_in_process("validate", "--spec", spec)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 2 and "Traceback" not in proc.stderr, lines
    if want is not None:
        assert lines[0] == f"{spec}:{want}"
    else:
        assert "sli.bad.metric: 'http_requests\\ufeff' is not valid: use lower-case" in lines[0]
