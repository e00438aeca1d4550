"""The simulator's bad-worker kinds, on synthetic offers (no server), with fixed
seeds; the --mix preset; and the report's per-kind measures."""
from __future__ import annotations

import argparse
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest

from crowd.simulate.kinds import (
    ALL_KINDS,
    Colluder,
    CrowdConfig,
    Lazy,
    Mind,
    Seen,
    SlowDrifter,
    SpeedBot,
    make_minds,
    slow_drift_accuracy,
)
from crowd.simulate.options import SHARE_OPTIONS, add_arguments, settings_from
from crowd.simulate.report_kinds import (
    class_accuracy,
    collusion,
    crossing_answer,
    guessing,
    sanction_point,
    slow_drifters,
)
from crowd.simulate.sniffers import (
    SnifferByContent,
    SnifferById,
    SnifferByTiming,
    as_number,
)
from crowd.simulate.workers import (
    WorkerModel,
    make_crowd,
    make_dataset,
    reliable_confusion,
)

LABELS = ("a", "b", "c", "d")
ACCEPTANCE = [0.45, 0.05, 0.05, 0.05, 0.05, 0.10, 0.05, 0.05, 0.05, 0.05, 0.05]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def perfect(kind: str) -> WorkerModel:
    return WorkerModel(kind, np.eye(4))


def offer(item_id: int | str, mode: str = "work", data: object = None,
          latency: float = 0.05) -> Seen:
    return Seen(item_id, data if data is not None else {"text": f"item {item_id}"}, mode,
                LABELS, latency)


# -- gold sniffers ----------------------------------------------------------------


def test_sniffer_by_id_guesses_from_numeric_ids_met_in_qualification() -> None:
    sniffer, generator = SnifferById(perfect("sniffer_id"), radius=3), rng(1)
    for gold_id in (1000, 1010, 5000):
        choice = sniffer.choose(offer(gold_id, "qualification"), 2, 0, generator)
        assert choice.given == 2 and choice.guess_gold is None  # known gold: honest
    guesses = {i: sniffer.choose(offer(i), 1, 0, generator).guess_gold
               for i in (1000, 1003, 997, 1004, 1007, 1013, 1014, 3000, 4998, 9999)}
    assert guesses == {1000: True, 1003: True, 997: True, 1004: False, 1007: True,
                       1013: True, 1014: False, 3000: False, 4998: True, 9999: False}
    # Honest on what it takes for gold, random on the rest.
    honest = [sniffer.choose(offer(1001), 3, 0, generator).given for _ in range(200)]
    random = [sniffer.choose(offer(77_777), 3, 0, generator).given for _ in range(2000)]
    assert set(honest) == {3}
    assert np.mean(np.asarray(random) == 3) == pytest.approx(0.25, abs=0.04)


def test_sniffer_by_id_handles_strings_exactly_and_digit_strings_numerically() -> None:
    sniffer, generator = SnifferById(perfect("sniffer_id")), rng(2)
    for gold_id in ("itm_9f2a", "12345"):
        sniffer.choose(offer(gold_id, "training"), 0, 0, generator)
    assert sniffer.choose(offer("itm_9f2a"), 0, 0, generator).guess_gold is True
    assert sniffer.choose(offer("itm_9f2b"), 0, 0, generator).guess_gold is False
    assert sniffer.choose(offer("12347"), 0, 0, generator).guess_gold is True
    assert sniffer.choose(offer(12344), 0, 0, generator).guess_gold is True
    assert sniffer.choose(offer("12349"), 0, 0, generator).guess_gold is False
    assert (as_number(7), as_number("42"), as_number("x1"), as_number(True)) == \
        (7, 42, None, None)


def test_sniffer_by_id_finds_nothing_in_opaque_random_ids() -> None:
    sniffer, generator = SnifferById(perfect("sniffer_id")), rng(3)
    for gold_id in generator.integers(1, 2**53, size=40):
        sniffer.choose(offer(int(gold_id), "qualification"), 0, 0, generator)
    work = [int(i) for i in generator.integers(1, 2**53, size=500)]
    assert not any(sniffer.choose(offer(i), 0, 0, generator).guess_gold for i in work)


def test_sniffer_by_content_takes_repeated_data_for_gold() -> None:
    sniffer, generator = SnifferByContent(perfect("sniffer_content")), rng(4)
    sniffer.choose(offer(1, "qualification", {"text": "a cat", "n": 1}), 0, 0, generator)
    assert sniffer.choose(offer(2, data={"n": 1, "text": "a cat"}), 0, 0, generator).guess_gold
    assert not sniffer.choose(offer(3, data={"text": "a dog", "n": 1}), 0, 0,
                              generator).guess_gold


def test_sniffer_by_timing_flags_unusually_slow_or_fast_offers_after_warmup() -> None:
    sniffer, generator = SnifferByTiming(perfect("sniffer_timing"), warmup=10), rng(5)
    latencies = 0.050 + generator.normal(0, 0.002, size=30)
    early = [sniffer.choose(offer(i, latency=float(t)), 0, 0, generator).guess_gold
             for i, t in enumerate(latencies)]
    assert early.count(True) <= 1  # normal jitter is not taken for gold
    assert sniffer.choose(offer(100, latency=0.200), 0, 0, generator).guess_gold is True
    assert sniffer.choose(offer(101, latency=0.005), 0, 0, generator).guess_gold is True
    assert sniffer.choose(offer(102, latency=0.051), 0, 0, generator).guess_gold is False
    first = SnifferByTiming(perfect("sniffer_timing"), warmup=10)
    assert first.choose(offer(1, latency=5.0), 0, 0, generator).guess_gold is False


# -- the other kinds -----------------------------------------------------------------


def test_lazy_clicker_gives_the_class_most_expected_in_feedback() -> None:
    lazy, generator = Lazy(perfect("lazy"), fixed=None, start=3), rng(6)
    assert lazy.choose(offer(1, "qualification"), 0, 0, generator).given == 3
    for expected in ("b", "c", "b"):
        seen = offer(2, "qualification")
        choice = lazy.choose(seen, 0, 0, generator)
        lazy.learn(seen, choice.given, {"accepted": True,
                                        "feedback": {"correct": False, "expected": expected}})
    assert {lazy.choose(offer(i), t, 0, generator).given for i in range(20) for t in range(4)} \
        == {1}
    fixed = Lazy(perfect("lazy"), fixed=2, start=0)
    fixed.learn(offer(1, "qualification"), 2, {"feedback": {"expected": "a"}})
    assert {fixed.choose(offer(i), i % 4, 0, generator).given for i in range(20)} == {2}


def test_colluders_of_a_group_agree_on_one_wrong_label_for_one_class() -> None:
    config = CrowdConfig(4, group_size=3)
    minds = make_minds(12, [0.5, 0, 0, 0, 0, 0.5], config, rng(7))
    colluders = [m for m in minds if isinstance(m, Colluder)]
    assert len(colluders) == 6
    groups: dict[int, set[tuple[int, int]]] = {}
    for m in colluders:
        groups.setdefault(m.group, set()).add((m.target, m.pushed))
    assert sorted(groups) == [0, 1]
    for pairs in groups.values():
        ((target, pushed),) = pairs  # one target and one pushed label per group
        assert target != pushed
    generator = rng(8)
    for m in colluders:
        for _ in range(50):
            assert m.choose(offer(1), m.target, 0, generator).given == m.pushed
    # Honest otherwise: in qualification, and on the other classes.
    member = colluders[0]
    honest = [member.choose(offer(1, "qualification"), member.target, 0, generator).given
              for _ in range(500)]
    assert np.mean(np.asarray(honest) == member.target) > 0.6
    other = (member.target + 1) % 4
    given = [member.choose(offer(1), other, 0, generator).given for _ in range(500)]
    assert np.mean(np.asarray(given) == other) > 0.6


def test_slow_drifter_follows_its_accuracy_schedule() -> None:
    assert slow_drift_accuracy(0, 0.9, 0.4, 40, 80) == 0.9
    assert slow_drift_accuracy(39, 0.9, 0.4, 40, 80) == 0.9
    assert slow_drift_accuracy(80, 0.9, 0.4, 40, 80) == pytest.approx(0.65)
    assert slow_drift_accuracy(120, 0.9, 0.4, 40, 80) == pytest.approx(0.4)
    assert slow_drift_accuracy(500, 0.9, 0.4, 40, 80) == pytest.approx(0.4)
    (mind,) = make_minds(1, [0] * 9 + [1.0], CrowdConfig(4, slow_after=40, slow_over=80), rng(9))
    assert isinstance(mind, SlowDrifter)
    assert mind.start == pytest.approx(0.9, abs=0.05)
    assert not mind.is_degraded(39) and mind.is_degraded(40)
    generator = rng(10)
    for k, expected in ((0, mind.start), (80, (mind.start + 0.4) / 2), (120, 0.4), (300, 0.4)):
        matrix = mind.matrix(k)
        np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
        assert (matrix >= 0).all()
        assert np.mean(np.diag(matrix)) == pytest.approx(expected)
        hits = [mind.choose(offer(1), t, k, generator).given == t
                for t in range(4) for _ in range(2500)]
        assert np.mean(hits) == pytest.approx(expected, abs=0.02)


def test_speed_bot_answers_at_random_in_a_few_hundred_milliseconds() -> None:
    bot, generator = SpeedBot(WorkerModel("speed_bot", np.full((4, 4), 0.25))), rng(11)
    choices = [bot.choose(offer(i, "qualification" if i % 2 else "work"), 0, 0, generator)
               for i in range(4000)]
    # The duration a bot reports in its answer is a number it draws (50-400 ms,
    # see SpeedBot); nothing here is timed.
    reported_ms = np.array([c.duration_ms for c in choices])
    assert reported_ms.min() >= 50 and reported_ms.max() < 400
    shares = np.bincount([c.given for c in choices], minlength=4) / len(choices)
    np.testing.assert_allclose(shares, 0.25, atol=0.03)
    human = [Mind(perfect("reliable")).choose(offer(1), 0, 0, generator).duration_ms
             for _ in range(200)]
    assert np.median(human) > 2000


# -- the crowd and the data -------------------------------------------------------------


def test_dataset_follows_the_class_shares_gold_included() -> None:
    data = make_dataset(20_000, 2_000, 4, rng(12), shares=[55, 25, 15, 5])
    work = np.bincount(data.truth[~data.gold], minlength=4) / data.n_items
    gold = np.bincount(data.truth[data.gold], minlength=4) / data.n_gold
    np.testing.assert_allclose(work, [0.55, 0.25, 0.15, 0.05], atol=0.01)
    np.testing.assert_allclose(gold, [0.55, 0.25, 0.15, 0.05], atol=0.03)
    with pytest.raises(ValueError):
        make_dataset(10, 2, 4, rng(), shares=[1, 1])


def test_reliable_errors_lean_towards_common_classes_when_pulled() -> None:
    np.testing.assert_allclose(reliable_confusion(4, rng(13)),
                               reliable_confusion(4, rng(13), pull=[1, 1, 1, 1]))
    pulled = np.mean([reliable_confusion(4, rng(s), pull=[55, 25, 15, 5]) for s in range(300)],
                     axis=0)
    assert pulled[3, 0] > 2 * pulled[3, 2] and pulled[1, 0] > pulled[1, 3]


def test_make_minds_splits_the_acceptance_mix_and_keeps_old_crowds() -> None:
    config = CrowdConfig(4, reliable_accuracy=(0.8, 0.95), class_shares=(0.55, 0.25, 0.15, 0.05))
    minds = make_minds(60, ACCEPTANCE, config, rng(14))
    counts = Counter(m.kind for m in minds)
    assert counts["reliable"] == 27 and counts["colluder"] == 6
    assert all(counts[k] == 3 for k in ALL_KINDS if k not in ("reliable", "colluder"))
    means = [np.mean(np.diag(m.model.confusion)) for m in minds if m.kind == "reliable"]
    assert 0.78 < min(means) and max(means) < 0.97
    old = make_crowd(20, [0.5, 0.25, 0.15, 0.1], 4, rng(15), onset=12)
    new = make_minds(20, [0.5, 0.25, 0.15, 0.1], CrowdConfig(4, onset=12), rng(15))
    for a, b in zip(old, new, strict=True):
        assert a.kind == b.kind
        np.testing.assert_array_equal(a.confusion, b.model.confusion)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_acceptance_mix_sets_the_issue_s_crowd_and_project() -> None:
    s = settings_from(parse("--mix", "acceptance"), seed=1)
    assert (s.workers, s.items, s.classes, s.redundancy, s.max_redundancy, s.gold_rate) == \
        (60, 1500, 4, 3, 7, 0.1)
    assert s.shares[0] == 0.45 and sum(s.shares) == pytest.approx(1.0)
    assert len(s.shares) == len(SHARE_OPTIONS) == len(ALL_KINDS)
    assert s.class_shares == pytest.approx((0.55, 0.25, 0.15, 0.05))
    assert s.reliable_accuracy == (0.8, 0.95) and s.gold_import == "separate"
    smaller = settings_from(parse("--mix", "acceptance", "--items", "300"), seed=1)
    assert smaller.items == 300 and smaller.workers == 60
    plain = settings_from(parse(), seed=1)
    assert plain.shares[:4] == (0.6, 0.2, 0.1, 0.1) and not any(plain.shares[4:])
    assert plain.class_shares is None and plain.items == 2000
    with pytest.raises(ValueError, match="add up to 1"):
        settings_from(parse("--mix", "acceptance", "--reliable", "0.6"), seed=1)
    with pytest.raises(ValueError, match="one per class"):
        settings_from(parse("--class-shares", "1,2,3"), seed=1)


# -- the report's per-kind measures -------------------------------------------------


def row(ref: str, minute: int, label: str = "a", gold: bool = False, mode: str = "work",
        counted: bool = True) -> dict:
    return {"external_id": ref, "created_at": f"2026-01-01T12:{minute:02d}:00Z", "label": label,
            "is_gold": gold, "mode": mode, "counted": counted}


HISTORY = [{"at": "2026-01-01T11:00:00Z", "to": "qualification", "reason_code": "new_worker"},
           {"at": "2026-01-01T12:04:00Z", "to": "retraining", "reason_code": "drift"}]


def test_guessing_scores_precision_and_recall_against_the_gold_rate() -> None:
    guesses = [("g1", True), ("g2", False), ("w1", True), ("w2", False), ("w3", False)]
    result = guessing(guesses, {"g1", "g2"})
    assert result["precision"] == 0.5 and result["recall"] == 0.5
    assert result["gold_rate"] == pytest.approx(0.4) and result["offers"] == 5
    assert guessing([("w1", False)], {"g1"})["precision"] is None


def test_sanction_point_counts_answers_and_gold_before_the_first_sanction() -> None:
    rows = [row("q1", 1, gold=True, mode="qualification"), row("w1", 2), row("g1", 3, gold=True),
            row("g2", 4, gold=True), row("w2", 5)]
    point = sanction_point(rows, HISTORY)
    assert point == {"sanctioned": True, "to": "retraining", "reason": "drift",
                     "at": "2026-01-01T12:04:00Z", "answers": 4, "work_answers": 3,
                     "gold_answers": 3, "hidden_gold": 2}
    assert sanction_point(rows, HISTORY[:1]) == {"sanctioned": False}


def test_class_accuracy_shows_the_rarest_class() -> None:
    truth = {"1": "a", "2": "a", "3": "a", "4": "b", "5": "b", "6": "c"}
    results = [{"external_id": k, "status": "complete", "label": v} for k, v in truth.items()]
    results[-1]["label"] = "a"
    out = class_accuracy(results, truth, ["a", "b", "c", "d"])
    assert out["rarest"] == "c" and out["rarest_accuracy"] == 0.0
    assert out["classes"]["a"]["accuracy"] == 1.0 and out["classes"]["d"]["items"] == 0


def test_collusion_counts_labels_in_completed_items_before_the_sanction() -> None:
    mind = SimpleNamespace(group=0, target=1, pushed=0)
    workers = [SimpleNamespace(kind="colluder", mind=mind, username="c1"),
               SimpleNamespace(kind="reliable", mind=None, username="r1")]
    sim = SimpleNamespace(workers=workers, project=SimpleNamespace(labels=list(LABELS)))
    truth = {"x": "b", "y": "b", "z": "a", "open": "b"}
    results = [{"external_id": "x", "status": "complete", "label": "a"},
               {"external_id": "y", "status": "complete", "label": "b"},
               {"external_id": "z", "status": "complete", "label": "a"},
               {"external_id": "open", "status": "open", "label": None}]
    by_worker = {"c1": [row("x", 1, "a"), row("z", 2, "a"), row("open", 3, "a"),
                        row("y", 5, "a")]}
    (group,) = collusion(sim, by_worker, {"c1": HISTORY}, results, truth)
    assert group["target"] == "b" and group["pushed"] == "a" and group["sanctioned"] == 1
    assert group["labels_in_completed_before_sanction"] == 2  # x, z; y came after
    assert group["pushed_in_completed_before_sanction"] == 1  # x
    assert group["target_items_flipped"] == 1


def test_a_slow_drifter_is_measured_from_its_first_answer_below_min_accuracy() -> None:
    # 0.9 for 2 work answers, then down to 0.4 over 4: 0.9, 0.775, then 0.65 (< 0.7)
    # at answer 4 (counting from 0).
    mind = SimpleNamespace(after=2, over=4,
                           accuracy=lambda n: slow_drift_accuracy(n, 0.9, 0.4, 2, 4))
    assert crossing_answer(mind, 0.7) == 4
    assert crossing_answer(mind, 0.3) is None  # never that low
    sim = SimpleNamespace(workers=[SimpleNamespace(kind="slow_drifter", mind=mind,
                                                   username="s1")])
    # A qualification answer first (not counted by the schedule), then work-mode
    # answers, hidden gold included; the fifth (minute 5, gold) is the crossing.
    # The sanction at 12:06:30 comes after it and before the gold at minute 7.
    rows = [row("q", 0, mode="qualification", gold=True), row("w0", 1), row("w1", 2),
            row("g0", 3, gold=True), row("w3", 4), row("g1", 5, gold=True), row("w5", 6),
            row("g2", 7, gold=True)]
    history = [{"at": "2026-01-01T11:00:00Z", "to": "active", "reason_code": "passed"},
               {"at": "2026-01-01T12:06:30Z", "to": "retraining", "reason_code": "drift"}]
    (point,) = slow_drifters(sim, {"s1": rows}, {"s1": history}, 0.7)
    assert point["crossing_answer"] == 4 and point["reached_onset"]
    assert point["sanctioned"] and point["delay"] == 1  # g1; g2 came after the sanction
    assert point["gold_after_onset"] == 2
    (short,) = slow_drifters(sim, {"s1": rows[:3]}, {"s1": history}, 0.7)
    assert not short["reached_onset"]  # the run ended before it crossed
