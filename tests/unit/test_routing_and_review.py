"""Unit tests of the pure domain rules: routing, gold, qualification, review, reliability, settings.

No database and no Flask: values in, values out, randomness from a seeded generator.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from crowd.domain.errors import Forbidden, InvalidInput
from crowd.domain.gold import SHUFFLE_KEYS, feedback, is_correct, shuffle_keys, wants_gold
from crowd.domain.qualification import initial_state, round_result
from crowd.domain.reliability import (
    PRIOR_ALPHA,
    PRIOR_BETA,
    beta_accuracy,
    one_coin_confusion,
    worker_confusion,
)
from crowd.domain.review import Decision, decide, item_posterior, sample_for_qa
from crowd.domain.routing import Pick, gold_start_key, plan_next
from crowd.domain.settings import (
    MAX_LABEL_LENGTH,
    SETTING_NAMES,
    SETTINGS,
    SWITCHES,
    ProjectRules,
    validate_labels,
    validate_settings,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def within_binomial_bounds(hits: int, n: int, p: float, z: float = 4.0) -> bool:
    half_width = z * math.sqrt(n * p * (1 - p))
    return n * p - half_width <= hits <= n * p + half_width


# routing ---------------------------------------------------------------------------------------

def test_suspended_worker_is_refused_with_code_suspended():
    with pytest.raises(Forbidden) as refused:
        plan_next("suspended", 0.1, rng())
    assert refused.value.code == "suspended"


def test_qualification_and_retraining_serve_only_gold_with_feedback_modes():
    assert plan_next("qualification", 0.0, rng()) == [Pick("gold", "qualification")]
    assert plan_next("retraining", 0.0, rng()) == [Pick("gold", "training")]
    # the gold rate does not matter in a round: it is all gold
    assert plan_next("qualification", 1.0, rng()) == [Pick("gold", "qualification")]


def test_active_worker_gets_work_only_at_gold_rate_zero():
    generator = rng()
    assert all(plan_next("active", 0.0, generator) == [Pick("work", "work")] for _ in range(500))


def test_active_worker_at_gold_rate_one_tries_hidden_gold_then_falls_back_to_work():
    plan = plan_next("active", 1.0, rng())
    assert plan == [Pick("gold", "work"), Pick("work", "work")]
    assert all(pick.mode == "work" for pick in plan)  # hidden gold is served as work


def test_active_worker_is_offered_gold_at_the_gold_rate():
    generator, n, rate = rng(3), 20_000, 0.1
    gold = sum(plan_next("active", rate, generator)[0].pool == "gold" for _ in range(n))
    assert within_binomial_bounds(gold, n, rate)


def test_routing_is_repeatable_with_the_same_seed():
    a, b = rng(42), rng(42)
    plans = [plan_next("active", 0.3, a) for _ in range(200)]
    assert plans == [plan_next("active", 0.3, b) for _ in range(200)]
    assert len({tuple(plan) for plan in plans}) == 2  # both kinds of plan occur


def test_gold_start_key_is_uniform_on_the_ring():
    generator = rng(5)
    keys = [gold_start_key(generator, 10) for _ in range(10_000)]
    assert min(keys) == 0 and max(keys) == 9
    counts = np.bincount(keys, minlength=10)
    assert all(within_binomial_bounds(int(c), 10_000, 0.1) for c in counts)
    big = gold_start_key(rng(1), SHUFFLE_KEYS)
    assert isinstance(big, int) and 0 <= big < SHUFFLE_KEYS


# gold ------------------------------------------------------------------------------------------

def test_wants_gold_is_never_at_rate_zero_and_always_at_rate_one():
    generator = rng()
    assert not any(wants_gold(generator, 0.0) for _ in range(1000))
    assert all(wants_gold(generator, 1.0) for _ in range(1000))


def test_wants_gold_is_a_bernoulli_draw_at_the_rate():
    generator, n = rng(11), 20_000
    assert within_binomial_bounds(sum(wants_gold(generator, 0.25) for _ in range(n)), n, 0.25)


def test_gold_answer_is_correct_only_on_an_exact_match():
    assert is_correct("cat", "cat")
    assert not is_correct("Cat", "cat")
    assert not is_correct("dog", "cat")


def test_feedback_names_the_expected_label():
    assert feedback("dog", "cat") == {"correct": False, "expected": "cat"}
    assert feedback("cat", "cat") == {"correct": True, "expected": "cat"}


def test_shuffle_keys_are_in_range_and_repeatable():
    keys = shuffle_keys(rng(9), 1000)
    assert len(keys) == 1000
    assert all(isinstance(k, int) and 0 <= k < SHUFFLE_KEYS for k in keys)
    assert keys == shuffle_keys(rng(9), 1000)
    assert len(set(keys)) > 990  # a ring of 2**31 keys: collisions are rare
    assert shuffle_keys(rng(9), 0) == []


# qualification ---------------------------------------------------------------------------------

def test_new_worker_starts_in_qualification_unless_none_is_asked():
    none_asked = initial_state(0)
    assert none_asked.to_state == "active" and none_asked.reason_code == "no_qualification"
    asked = initial_state(10)
    assert asked.to_state == "qualification" and asked.reason_code == "new_worker"
    assert "10" in asked.reason


def test_round_goes_on_until_size_answers():
    assert round_result("qualification", 0, 0, 5, 0.8) is None
    assert round_result("qualification", 4, 4, 5, 0.8) is None
    assert round_result("qualification", 10, 8, 10, 0.8) is None  # 8/10 is not yet clear


def test_round_passes_at_the_cap_on_the_evidence():
    # 4 items at 0.75 run to at most 12; at the cap 9/12 passes (the old fixed
    # rule passed 3/4 at once: a perfect 4/4 is now the only pass at 4).
    passed = round_result("qualification", 12, 9, 4, 0.75)
    assert passed is not None
    assert passed.to_state == "active" and passed.reason_code == "qualification_passed"
    assert {k: passed.evidence[k] for k in ("seen", "correct", "required_accuracy", "accuracy")} \
        == {"seen": 12, "correct": 9, "required_accuracy": 0.75, "accuracy": 0.75}
    assert round_result("qualification", 30, 24, 10, 0.8).to_state == "active"
    assert round_result("qualification", 30, 21, 10, 0.7).to_state == "active"


def test_round_below_the_threshold_suspends_with_a_reason():
    failed = round_result("qualification", 12, 8, 4, 0.75)
    assert failed is not None
    assert failed.to_state == "suspended" and failed.reason_code == "qualification_failed"
    assert "8/12" in failed.reason and "75%" in failed.reason
    assert failed.evidence["accuracy"] == 0.6667


def test_retraining_round_is_named_as_retraining():
    assert round_result("retraining", 5, 5, 5, 0.8).reason_code == "retraining_passed"
    assert round_result("retraining", 6, 1, 5, 0.8).reason_code == "retraining_failed"


def test_round_ends_early_on_what_was_answered_when_gold_runs_out():
    assert round_result("qualification", 2, 2, 10, 0.8, exhausted=True).to_state == "active"
    assert round_result("qualification", 2, 1, 10, 0.8, exhausted=True).to_state == "suspended"


def test_round_with_no_gold_at_all_lets_the_worker_in():
    change = round_result("qualification", 0, 0, 10, 0.8, exhausted=True)
    assert change is not None
    assert change.to_state == "active" and change.reason_code == "no_gold"


# review ----------------------------------------------------------------------------------------

def test_posterior_without_labels_is_the_prior():
    empty = np.array([], dtype=np.intp)
    uniform = item_posterior(empty, np.zeros((0, 3, 3)))
    assert np.allclose(uniform, [1 / 3] * 3)
    prior = np.array([0.5, 0.3, 0.2])
    assert np.allclose(item_posterior(empty, np.zeros((0, 3, 3)), prior), prior)


def test_three_agreeing_newcomers_give_the_expected_posterior():
    confusion = one_coin_confusion(0.7, 3)
    posterior = item_posterior(np.array([0, 0, 0]), np.stack([confusion] * 3))
    expected = 0.7**3 / (0.7**3 + 2 * 0.15**3)
    assert posterior.shape == (3,)
    assert posterior.sum() == pytest.approx(1.0)
    assert posterior[0] == pytest.approx(expected)
    assert posterior[1] == pytest.approx(posterior[2])


def test_posterior_weighs_labels_by_each_workers_confusion():
    expert, novice = one_coin_confusion(0.95, 2), one_coin_confusion(0.6, 2)
    posterior = item_posterior(np.array([1, 0]), np.stack([expert, novice]))
    assert posterior[1] > 0.9
    # the same labels, workers swapped: the other class wins
    swapped = item_posterior(np.array([1, 0]), np.stack([novice, expert]))
    assert swapped[0] > 0.9


def test_posterior_is_order_free_and_stable_with_many_labels():
    confusions = np.stack([one_coin_confusion(0.9, 4)] * 400)
    given = np.array([2] * 300 + [1] * 100)
    posterior = item_posterior(given, confusions)
    assert np.isfinite(posterior).all() and posterior[2] == pytest.approx(1.0)
    assert np.allclose(posterior, item_posterior(given[::-1].copy(), confusions))


def test_decide_waits_until_the_target_is_reached():
    assert decide(0.99, 2, 3, 5, 0.95) == Decision("wait", 3)


def test_decide_completes_a_confident_item_at_the_threshold():
    assert decide(0.95, 3, 3, 5, 0.95) == Decision("complete", 3)
    assert decide(0.999, 4, 4, 5, 0.95) == Decision("complete", 4)


def test_decide_asks_for_one_more_worker_then_an_expert():
    assert decide(0.5, 3, 3, 5, 0.95) == Decision("more", 4)
    assert decide(0.5, 4, 4, 5, 0.95) == Decision("more", 5)
    assert decide(0.5, 5, 5, 5, 0.95) == Decision("review", 5)
    assert decide(0.5, 3, 3, 3, 0.95) == Decision("review", 3)  # no room to widen


def test_random_qa_samples_at_the_review_rate():
    generator = rng(2)
    assert not any(sample_for_qa(generator, 0.0) for _ in range(1000))
    assert all(sample_for_qa(generator, 1.0) for _ in range(1000))
    n = 20_000
    assert within_binomial_bounds(sum(sample_for_qa(generator, 0.05) for _ in range(n)), n, 0.05)


# reliability -----------------------------------------------------------------------------------

def test_beta_accuracy_starts_at_the_prior_and_follows_the_record():
    assert beta_accuracy(0, 0) == pytest.approx(PRIOR_ALPHA / (PRIOR_ALPHA + PRIOR_BETA))
    assert beta_accuracy(0, 0) == pytest.approx(0.7)
    assert beta_accuracy(10, 10) == pytest.approx(13.5 / 15)
    assert beta_accuracy(0, 10) == pytest.approx(3.5 / 15)
    assert beta_accuracy(900, 1000) == pytest.approx(0.9, abs=0.002)
    assert beta_accuracy(1, 1, alpha=1, beta=1) == pytest.approx(2 / 3)


def test_one_coin_confusion_spreads_errors_evenly():
    matrix = one_coin_confusion(0.7, 3)
    assert matrix.shape == (3, 3)
    assert np.allclose(np.diag(matrix), 0.7)
    assert np.allclose(matrix[0, 1:], 0.15)
    assert np.allclose(matrix.sum(axis=1), 1.0)


def test_one_coin_confusion_is_clipped_away_from_zero_and_one():
    perfect, hopeless = one_coin_confusion(1.0, 2), one_coin_confusion(0.0, 2)
    assert (perfect > 0).all() and (hopeless > 0).all()
    assert np.allclose(perfect.sum(axis=1), 1.0) and np.allclose(hopeless.sum(axis=1), 1.0)


def test_worker_confusion_uses_the_gold_record_when_there_is_no_estimate():
    labels = ["a", "b", "c"]
    assert np.allclose(worker_confusion(labels, None, 0, 0), one_coin_confusion(0.7, 3))
    assert np.allclose(worker_confusion(labels, {}, 10, 10),
                       one_coin_confusion(beta_accuracy(10, 10), 3))


def test_worker_confusion_normalises_a_dawid_skene_estimate_in_label_order():
    estimate = {"a": {"a": 0.8, "b": 0.2}, "b": {"b": 2.0, "a": 2.0}}  # c missing entirely
    matrix = worker_confusion(["a", "b", "c"], estimate, 0, 0)
    assert matrix.shape == (3, 3)
    assert np.allclose(matrix.sum(axis=1), 1.0)
    assert (matrix > 0).all()
    assert matrix[0, 0] == pytest.approx(0.8, abs=1e-4)
    assert matrix[1, 0] == pytest.approx(matrix[1, 1])
    assert np.allclose(matrix[2], 1 / 3)


# settings --------------------------------------------------------------------------------------

def test_settings_defaults_match_the_api_contract():
    assert validate_settings({}) == {
        "redundancy": 3, "max_redundancy": 5, "confidence_threshold": 0.95, "gold_rate": 0.1,
        "lease_seconds": 600, "qualification_size": 10, "qualification_accuracy": 0.8,
        "min_accuracy": 0.7, "drift_window": 20, "review_rate": 0.0,
        # the fraud rules (crowd.domain.fraud.settings), all on
        "fast_answer_ms": 1000, "fast_answer_count": 4, "fast_answer_window": 10,
        "same_label_alpha": 1e-6, "majority_alpha": 1e-4, "collusion_alpha": 1e-6,
        "collusion_min_shared": 20, "sniffing_alpha": 1e-4,
        "allow_undo": False,  # a switch (crowd.services.undo)
    }
    assert set(SETTING_NAMES) == {s.name for s in SETTINGS} | {s.name for s in SWITCHES}


def test_settings_take_valid_values_with_their_types():
    settings = validate_settings({"redundancy": 2.0, "gold_rate": 1, "lease_seconds": 60})
    assert settings["redundancy"] == 2 and isinstance(settings["redundancy"], int)
    assert settings["gold_rate"] == 1.0 and isinstance(settings["gold_rate"], float)
    assert settings["lease_seconds"] == 60


@pytest.mark.parametrize("body", [
    {"redundancy": "3"},
    {"redundancy": True},
    {"redundancy": None},
    {"redundancy": 2.5},
    {"redundancy": 0},
    {"gold_rate": 1.5},
    {"gold_rate": -0.1},
    {"lease_seconds": 0},
    {"qualification_size": -1},
    {"redundancy": 6},  # above the default max_redundancy of 5
    {"redundancy": 3, "max_redundancy": 2},
])
def test_bad_settings_are_refused_naming_the_problem(body):
    with pytest.raises(InvalidInput) as refused:
        validate_settings(body)
    assert refused.value.code == "invalid_setting"


def test_patching_settings_checks_the_merged_result():
    current = validate_settings({"redundancy": 2, "max_redundancy": 2})
    assert validate_settings({"max_redundancy": 4}, current)["redundancy"] == 2
    with pytest.raises(InvalidInput):
        validate_settings({"redundancy": 3}, current)
    patched = validate_settings({"redundancy": 3, "max_redundancy": 3}, current)
    assert (patched["redundancy"], patched["max_redundancy"]) == (3, 3)
    assert current["redundancy"] == 2  # the stored settings are not changed in place


def test_labels_are_kept_in_order():
    assert validate_labels(["pos", "neg", "neutral"]) == ["pos", "neg", "neutral"]
    assert validate_labels([str(i) for i in range(100)])[-1] == "99"


@pytest.mark.parametrize("labels", [
    "a,b",
    ["only"],
    [str(i) for i in range(101)],
    ["a", ""],
    ["a", "   "],
    ["a", 3],
    ["a", None],
    ["a", "a"],
    ["a", "x" * (MAX_LABEL_LENGTH + 1)],
])
def test_bad_labels_are_refused(labels):
    with pytest.raises(InvalidInput) as refused:
        validate_labels(labels)
    assert refused.value.code == "invalid_labels"


def test_project_rules_read_the_settings_off_any_object():
    values = validate_settings({"redundancy": 2})
    project = SimpleNamespace(labels=["a", "b"], **values, name="ignored")
    rules = ProjectRules.of(project)
    assert rules.labels == ("a", "b")
    assert rules.redundancy == 2 and rules.max_redundancy == 5
    assert rules.gold_rate == 0.1


def test_class_prior_floors_and_normalises_the_run_priors() -> None:
    from crowd.domain.review import PRIOR_FLOOR, class_prior

    assert class_prior(["a", "b"], None) is None and class_prior(["a", "b"], {}) is None
    prior = class_prior(["a", "b", "c"], {"a": 0.9, "b": 0.1})
    assert prior is not None and abs(prior.sum() - 1) < 1e-12
    assert prior[2] == PRIOR_FLOOR / (1.0 + PRIOR_FLOOR)
    # A 2-1 split between a common and a rare class leans to the common one.
    import numpy as np

    from crowd.domain.review import item_posterior

    confusion = np.full((3, 3), 0.1) + np.eye(3) * 0.7
    flat = item_posterior(np.array([0, 1]), np.stack([confusion] * 2))
    skewed = item_posterior(np.array([0, 1]), np.stack([confusion] * 2), prior)
    assert flat[0] == flat[1] and skewed[0] > 0.85
