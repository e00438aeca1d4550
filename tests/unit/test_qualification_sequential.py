"""The sequential qualification round: its rule, its exact operating characteristic,
and a Monte-Carlo run of the rule against that characteristic."""
from __future__ import annotations

import math

import numpy as np
import pytest

from crowd.domain.qualification import (
    CAP_FACTOR,
    SequentialRule,
    operating_characteristic,
    round_progress,
    round_result,
)


def _fail(bar: float, p: float, size: int = 10) -> float:
    return 1 - operating_characteristic(SequentialRule.for_round(size, bar), p)[0]


def _old_fail(bar: float, p: float, n: int = 10) -> float:
    """The old fixed rule: exactly n answers, pass at accuracy >= bar."""
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1) if k < bar * n)


# the operating characteristic ------------------------------------------------------------------

def test_a_worker_0_1_above_the_bar_fails_under_2_percent():
    assert _fail(0.7, 0.8) < 0.02  # 0.0100; the old 10-item rule: 0.121
    assert _fail(0.8, 0.9) < 0.02  # 0.0077; the old rule: 0.070
    assert _fail(0.7, 0.85) < 0.002 and _fail(0.8, 0.95) < 0.001


def test_a_worker_0_2_below_the_bar_rarely_passes():
    assert 1 - _fail(0.7, 0.5) < 0.101  # 0.100 (old rule: 0.172); the 30-answer cap's price
    assert 1 - _fail(0.8, 0.6) < 0.052  # 0.051 (old rule: 0.167)
    assert 1 - _fail(0.8, 0.5) < 0.005  # 0.004
    assert 1 - _fail(0.7, 0.3) < 0.001


@pytest.mark.parametrize("bar", [0.6, 0.7, 0.8])
def test_the_new_rule_beats_the_old_one_on_both_errors(bar):
    assert _fail(bar, bar + 0.1) < _old_fail(bar, bar + 0.1) / 5
    assert 1 - _fail(bar, bar - 0.2) < 1 - _old_fail(bar, bar - 0.2)


@pytest.mark.parametrize(("bar", "p", "answers"), [
    (0.7, 0.5, 21.9), (0.7, 0.7, 25.8), (0.7, 0.8, 20.2), (0.7, 0.95, 11.7),
    (0.8, 0.6, 19.1), (0.8, 0.8, 23.4), (0.8, 0.9, 16.1), (0.8, 0.95, 12.5),
])
def test_expected_answers_as_in_the_module_table(bar, p, answers):
    _, expected = operating_characteristic(SequentialRule.for_round(10, bar), p)
    assert abs(expected - answers) < 0.05


def test_clear_workers_are_decided_sooner_than_borderline_ones():
    rule = SequentialRule.for_round(10, 0.7)
    answers = {p: operating_characteristic(rule, p)[1] for p in (0.2, 0.7, 0.99)}
    assert answers[0.2] < answers[0.7] and answers[0.99] < answers[0.7]
    assert answers[0.99] < 10.5  # a near-perfect worker passes at the nominal size


@pytest.mark.parametrize(("size", "bar"), [(10, 0.7), (10, 0.8), (4, 0.75), (2, 0.5), (20, 0.5)])
def test_pass_probability_rises_with_accuracy_and_every_round_ends_by_the_cap(size, bar):
    rule = SequentialRule.for_round(size, bar)
    passes = [operating_characteristic(rule, p)[0] for p in np.linspace(0.05, 0.95, 19)]
    assert all(a <= b + 1e-12 for a, b in zip(passes, passes[1:]))
    assert all(rule.decide(rule.at_most, k) is not None for k in range(rule.at_most + 1))
    assert operating_characteristic(rule, 0.0)[0] == pytest.approx(0.0, abs=1e-12)
    assert operating_characteristic(rule, 1.0) == pytest.approx((1.0, size))


# a Monte-Carlo run of the rule -----------------------------------------------------------------

# Each check below is a two-sided z-test at Z = 4.89 (P(|Z| > 4.89) = 1.0e-6) on
# ROUNDS independent rounds; with 2 x 10 checks the whole test fails a correct
# rule by chance with probability below 20 x 1.0e-6 = 2e-5 < 1e-4 (Bonferroni).
# The expected-answers check uses the sample standard deviation (answers lie in
# [0, 30], so it is at most 15 and ROUNDS = 20,000 makes the CLT accurate).
ROUNDS, Z = 20_000, 4.89


def _simulate(
    size: int, bar: float, p: float, rng: np.random.Generator
) -> tuple[float, np.ndarray]:
    """(share passed, answers per round) of ROUNDS rounds run through ``round_result``,
    one answer at a time, as the answering service does."""
    cap = CAP_FACTOR * size
    outcome = {(n, k): round_result("qualification", n, k, size, bar)
               for n in range(1, cap + 1) for k in range(n + 1)}
    hits = rng.random((ROUNDS, cap)) < p
    passed, answers = 0, np.zeros(ROUNDS)
    for r in range(ROUNDS):
        correct = 0
        for n in range(1, cap + 1):
            correct += int(hits[r, n - 1])
            change = outcome[(n, correct)]
            if change is not None:
                passed += change.to_state == "active"
                answers[r] = n
                break
    return passed / ROUNDS, answers


@pytest.mark.parametrize("bar", [0.7, 0.8])
def test_a_monte_carlo_run_of_the_rule_matches_the_exact_characteristic(bar):
    rng = np.random.default_rng(20261202 + int(bar * 10))
    for p in (bar - 0.3, bar - 0.2, bar - 0.1, bar, bar + 0.1):
        exact_pass, exact_answers = operating_characteristic(SequentialRule.for_round(10, bar), p)
        share, answers = _simulate(10, bar, p, rng)
        assert answers.min() >= 1 and answers.max() <= 30
        se_pass = math.sqrt(max(exact_pass * (1 - exact_pass), 1e-12) / ROUNDS)
        assert abs(share - exact_pass) <= Z * se_pass + 1e-9, (p, share, exact_pass)
        se_answers = answers.std(ddof=1) / math.sqrt(ROUNDS)
        assert abs(answers.mean() - exact_answers) <= Z * se_answers + 1e-9, (p, answers.mean())


# the rule --------------------------------------------------------------------------------------

def test_boundaries_for_the_default_bar():
    rule = SequentialRule.for_round(10, 0.8)
    assert (rule.p_bad, rule.p_good, rule.at_least, rule.at_most) == (0.6, 0.85, 10, 30)
    assert rule.lower == pytest.approx(math.log(0.02 / 0.98))
    assert rule.upper == pytest.approx(10 * math.log(0.85 / 0.6))  # a perfect 10/10 passes


def test_a_pass_needs_the_nominal_size_but_an_overwhelming_fail_may_come_sooner():
    assert round_result("qualification", 9, 9, 10, 0.7) is None
    assert round_result("qualification", 10, 10, 10, 0.7).reason_code == "qualification_passed"
    assert round_result("qualification", 5, 0, 10, 0.7) is None
    failed = round_result("qualification", 6, 0, 10, 0.7)
    assert failed is not None and failed.to_state == "suspended"
    assert failed.evidence["decided_by"] == "lower"
    assert failed.evidence["llr"] <= failed.evidence["fail_llr"]


def test_a_borderline_worker_gets_more_gold_up_to_the_cap():
    assert round_result("qualification", 10, 8, 10, 0.8) is None
    assert round_result("qualification", 29, 22, 10, 0.8) is None
    at_cap = round_result("qualification", 30, 22, 10, 0.8)
    assert at_cap is not None and at_cap.to_state == "suspended"
    assert at_cap.evidence["decided_by"] == "cap"
    assert round_result("qualification", 30, 23, 10, 0.8).to_state == "active"  # 23/30 >= 0.738


def test_the_evidence_records_the_counts_the_llr_and_the_boundaries():
    change = round_result("retraining", 12, 12, 10, 0.8)
    assert change is not None and change.reason_code == "retraining_passed"
    evidence = change.evidence
    assert evidence["seen"] == 12 and evidence["correct"] == 12 and evidence["accuracy"] == 1.0
    assert evidence["llr"] == round(12 * math.log(0.85 / 0.6), 4)
    assert evidence["decided_by"] == "upper" and evidence["rule"] == "sprt"
    assert (evidence["at_least"], evidence["at_most"]) == (10, 30)
    assert evidence["required_accuracy"] == 0.8
    assert evidence["pass_llr"] == round(10 * math.log(0.85 / 0.6), 4)
    assert evidence["fail_llr"] == round(math.log(0.02 / 0.98), 4)


def test_running_out_of_gold_decides_on_the_evidence_so_far():
    assert round_result("qualification", 3, 3, 10, 0.8, exhausted=True).to_state == "active"
    failed = round_result("qualification", 3, 1, 10, 0.8, exhausted=True)
    assert failed.to_state == "suspended" and failed.evidence["decided_by"] == "exhausted"
    assert round_result("qualification", 0, 0, 10, 0.8, exhausted=True).reason_code == "no_gold"


def test_bars_of_zero_and_one_decide_by_themselves():
    assert round_result("qualification", 3, 0, 3, 0.0).to_state == "active"
    assert round_result("qualification", 2, 0, 3, 0.0) is None
    assert round_result("qualification", 1, 0, 3, 1.0).to_state == "suspended"
    assert round_result("qualification", 2, 2, 3, 1.0) is None
    assert round_result("qualification", 3, 3, 3, 1.0).to_state == "active"


def test_a_round_of_size_zero_is_decided_on_its_first_answer():
    assert round_result("retraining", 1, 1, 0, 0.8).to_state == "active"
    assert round_result("retraining", 1, 0, 0, 0.8).to_state == "suspended"


def test_more_correct_answers_never_turn_a_pass_into_a_fail():
    for size, bar in ((10, 0.7), (10, 0.8), (4, 0.75)):
        rule = SequentialRule.for_round(size, bar)
        for n in range(1, rule.at_most + 1):
            passed = [d[0] for k in range(n + 1) if (d := rule.decide(n, k)) is not None]
            assert passed == sorted(passed)


def test_round_progress_says_how_far_and_at_most_how_long():
    assert round_progress(7, 10) == "answered 7; the round continues until decided, at most 30"
