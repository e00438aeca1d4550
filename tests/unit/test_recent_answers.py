"""The answer summary lets the per-answer rules skip reading answers only when
neither could fire on them."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.domain.fraud import recent
from crowd.domain.fraud.runs import MAX_RUN, run_length, shortest_suspect_run
from crowd.domain.fraud.speed import too_fast

ANSWERS = st.lists(st.tuples(st.sampled_from("abc"),
                             st.one_of(st.none(), st.integers(0, 3000))), max_size=260)


@settings(max_examples=300, deadline=None)
@given(ANSWERS)
def test_the_summary_kept_answer_by_answer_equals_the_one_built_from_the_rows(answers):
    kept = recent.summary([])
    for label, ms in answers:
        kept = recent.with_answer(kept, label, ms)
    assert kept == recent.summary(answers)


@settings(max_examples=300, deadline=None)
@given(ANSWERS, st.integers(0, 2000), st.integers(1, 12), st.integers(1, 20),
       st.sampled_from([0.0, 1e-6, 1e-2]))
def test_a_rule_that_could_fire_is_never_skipped(answers, floor_ms, count, window, alpha):
    """Whenever the rules, run on the last MAX_RUN rows as the service does, would
    find something, the summary says they could."""
    rows = answers[-MAX_RUN:]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    times = [(start + timedelta(seconds=i), ms) for i, (_label, ms) in enumerate(rows)]
    shortest = shortest_suspect_run(3, alpha)
    fast = too_fast(times, floor_ms, count, window) is not None
    long_run = alpha > 0 and run_length([label for label, _ms in rows]) >= shortest
    could = recent.may_fire(recent.summary(answers), floor_ms, count, window, shortest)
    assert could == (fast or long_run)


def test_nothing_known_stays_unknown():
    assert recent.with_answer(None, "a", 100) is None


def test_a_long_history_is_kept_short():
    kept = recent.summary([("a", 5)] * 1000)
    assert len(kept["ms"]) == recent.MAX_WINDOW and kept["run"] == MAX_RUN
    assert recent.with_answer(kept, "a", 5)["run"] == MAX_RUN
    assert recent.with_answer(kept, "b", 5) == {"ms": [5] * recent.MAX_WINDOW,
                                                 "run_label": "b", "run": 1}
