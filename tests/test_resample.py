"""The finer input series (generator/prometheus/resample.py) is the piecewise-linear
interpolation of the minute series: at every whole minute it holds the same sample (or the
same blank), and in between it lies on the line to the next minute's sample. Judged by an
expansion of promtool's notation written here from its documentation, over random series
in the shapes the planners write (runs ``a+bxn``, lone values, blanks ``_xn``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from generator.prometheus.resample import resample, samples_per_minute


def expand(values: str) -> list[float | None]:
    """promtool's expansion: ``a+bxn`` is a, a+b, ..., a+n*b; ``_xn`` is n blanks."""
    out: list[float | None] = []
    for token in values.split():
        if token.startswith("_x"):
            out += [None] * int(token[2:])
        elif "x" in token:
            head, n = token.split("x")
            a, b = (float(p) for p in head.split("+"))
            out += [a + b * i for i in range(int(n) + 1)]
        else:
            out.append(float(token))
    return out


RUN = st.tuples(
    st.integers(0, 10**9).map(float), st.integers(0, 10**6).map(lambda n: n / 4), st.integers(0, 30)
)
SERIES = st.lists(st.one_of(RUN, st.integers(1, 5)), min_size=1, max_size=6)


def text(parts: list) -> str:
    out, level = [], 0.0
    for p in parts:
        if isinstance(p, int):
            out.append(f"_x{p}")
            continue
        start, step, n = p
        level = max(level, start)  # counters never fall: each run starts above the last
        out.append(f"{level!r}+{step!r}x{n}")
        level += step * n + step
    return " ".join(out)


@given(parts=SERIES, per_minute=st.integers(2, 4))
def test_finer_series_agrees_at_every_minute_and_is_linear_between(parts, per_minute) -> None:
    coarse = expand(text(parts))
    fine = expand(resample(text(parts), per_minute))
    assert len(fine) == (len(coarse) - 1) * per_minute + 1
    for i, value in enumerate(coarse):
        got = fine[i * per_minute]
        assert (got is None) == (value is None)
        if value is not None:
            assert abs(got - value) <= 1e-9 * max(1.0, value), (i, got, value)
        if i + 1 < len(coarse):
            between = fine[i * per_minute + 1 : (i + 1) * per_minute]
            nxt = coarse[i + 1]
            if value is None or nxt is None:
                assert between == [None] * (per_minute - 1)
            else:
                for j, v in enumerate(between, 1):
                    line = value + (nxt - value) * j / per_minute
                    assert abs(v - line) <= 1e-9 * max(1.0, line), (i, j, v, line)


def test_two_samples_in_every_rate_window() -> None:
    for minutes in range(1, 11):
        assert 60 * minutes / (60 / samples_per_minute(60 * minutes)) >= 2
    assert samples_per_minute(60) == 2
    assert samples_per_minute(120) == 1
