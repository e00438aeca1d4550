"""Workers know items only by an opaque id: gold imported in a batch of its own
gets ids spread like everyone else's, so "near a gold id I met" means nothing.

The statistics are exact or conservative, each at a stated false failure rate;
together (a union bound) a correct implementation fails this test with
probability below 1e-4. Every check is also run on the internal sequential ids,
where it must fire: that shows the checks can see the leak they guard against.
"""
from __future__ import annotations

import math
from bisect import bisect_left
from statistics import NormalDist
from typing import Any

import numpy as np
from sqlalchemy import select

from crowd.domain.public_ids import PUBLIC_ID_MAX
from crowd.extensions import db
from crowd.persistence import Item

N_WORK, N_GOLD = 500, 50
N_KNOWN = 20  # gold ids a worker remembers from qualification
SNIFF_SIZES = (10, 30, 60)  # how many "nearest to known gold" items the sniffer flags
ALPHA = 1e-4 / 4  # for each of the four checks below (union bound: 1e-4 in all)


def _rank_sum_z(gold: list[int], work: list[int]) -> float:
    """Wilcoxon rank-sum statistic, standardised (ids are distinct: no ties)."""
    ranks = {value: rank for rank, value in enumerate(sorted(gold + work), start=1)}
    n1, n2 = len(gold), len(work)
    mean, var = n1 * (n1 + n2 + 1) / 2, n1 * n2 * (n1 + n2 + 1) / 12
    return (sum(ranks[g] for g in gold) - mean) / math.sqrt(var)


def _ks_two_sample(gold: list[int], work: list[int]) -> float:
    """Kolmogorov-Smirnov distance between the two samples' distribution functions."""
    a, b = sorted(gold), sorted(work)
    return max(abs(bisect_left(a, x) / len(a) - bisect_left(b, x) / len(b)) for x in a + b)


def _ks_uniform(values: list[int], low: int, high: int) -> float:
    """One-sample Kolmogorov-Smirnov distance to the uniform law on ``[low, high]``."""
    ordered = sorted((v - low) / (high - low) for v in values)
    n = len(ordered)
    return max(max((i + 1) / n - u, u - i / n) for i, u in enumerate(ordered))


def _hypergeometric_tail(population: int, successes: int, draws: int, at_least: int) -> float:
    """P(X >= at_least) for X ~ Hypergeometric(population, successes, draws), exactly."""
    total = math.comb(population, draws)
    return sum(math.comb(successes, k) * math.comb(population - successes, draws - k)
               for k in range(at_least, min(successes, draws) + 1)) / total


def _sniff(known: list[int], candidates: dict[int, bool], flagged: int) -> int:
    """The attack: flag the ``flagged`` candidates nearest a known gold id; how many are gold."""
    marks = sorted(known)

    def distance(value: int) -> int:
        at = bisect_left(marks, value)
        return min(abs(value - marks[i]) for i in (at - 1, at) if 0 <= i < len(marks))

    nearest = sorted(candidates, key=lambda v: (distance(v), v))[:flagged]
    return sum(candidates[v] for v in nearest)


def _clustering(gold: list[int], work: list[int], low: int, high: int) -> dict[str, Any]:
    """Each check's statistic, its threshold at ``ALPHA``, and whether it fired."""
    n1, n2 = len(gold), len(work)
    z = _rank_sum_z(gold, work)
    z_limit = NormalDist().inv_cdf(1 - ALPHA / 2)
    # Asymptotic two-sample tail, P(D > c * sqrt((n1+n2)/(n1*n2))) <= 2 exp(-2 c^2).
    ks2 = _ks_two_sample(gold, work)
    ks2_limit = math.sqrt(math.log(2 / ALPHA) / 2) * math.sqrt((n1 + n2) / (n1 * n2))
    # Dvoretzky-Kiefer-Wolfowitz (Massart): exact for every n.
    ks1 = _ks_uniform(gold, low, high)
    ks1_limit = math.sqrt(math.log(2 / ALPHA) / (2 * n1))
    # A worker met N_KNOWN gold items; the rest are exchangeable with work items, so
    # the number of gold among any ``k`` picked without looking at the truth is
    # hypergeometric. ALPHA is split over the sniffer sizes.
    order = np.random.default_rng(7).permutation(n1)
    known = [gold[i] for i in order[:N_KNOWN]]
    candidates = {**{gold[i]: True for i in order[N_KNOWN:]}, **{w: False for w in work}}
    hidden = n1 - N_KNOWN
    sniffs = []
    for k in SNIFF_SIZES:
        caught = _sniff(known, candidates, k)
        p = _hypergeometric_tail(len(candidates), hidden, k, caught)
        sniffs.append({"flagged": k, "gold_caught": caught, "precision": caught / k,
                       "gold_share": hidden / len(candidates), "p": p,
                       "fired": p < ALPHA / len(SNIFF_SIZES)})
    return {
        "rank_sum": {"z": z, "limit": z_limit, "fired": abs(z) > z_limit},
        "ks_gold_vs_work": {"d": ks2, "limit": ks2_limit, "fired": ks2 > ks2_limit},
        "ks_gold_vs_uniform": {"d": ks1, "limit": ks1_limit, "fired": ks1 > ks1_limit},
        "sniffer": sniffs,
    }


def _import(manager: Any, pid: int, rows: list[dict[str, Any]]) -> None:
    response = manager.post(f"/projects/{pid}/items", rows)
    assert response.status_code == 201, response.get_json()


def test_gold_imported_in_its_own_batch_gets_ids_spread_like_the_work(
    app, manager, make_user
):
    pid = manager.post("/projects", {"name": "batches", "labels": ["a", "b"],
                                     "qualification_size": 0, "gold_rate": 0.0}).get_json()["id"]
    _import(manager, pid, [{"external_id": f"w{i}", "data": {"n": i}} for i in range(N_WORK)])
    _import(manager, pid, [{"external_id": f"g{i}", "data": {"n": i}, "gold_label": "a"}
                           for i in range(N_GOLD)])
    with app.app_context():
        rows = db.session.execute(select(Item.id, Item.public_id, Item.is_gold)
                                  .where(Item.project_id == pid).order_by(Item.id)).all()
    public = {True: [r.public_id for r in rows if r.is_gold],
              False: [r.public_id for r in rows if not r.is_gold]}
    internal = {kind: [r.id for r in rows if r.is_gold == kind] for kind in (True, False)}
    assert len(public[True]) == N_GOLD and len(public[False]) == N_WORK
    assert len({r.public_id for r in rows}) == len(rows)
    assert all(1 <= r.public_id <= PUBLIC_ID_MAX for r in rows)

    # What a worker is shown is the opaque id.
    offer = manager.as_(make_user("worker")[1]).post(f"/projects/{pid}/next").get_json()
    assert offer["item"]["id"] in public[False]

    spread = _clustering(public[True], public[False], 1, PUBLIC_ID_MAX)
    print("\nopaque ids:", spread)
    assert not spread["rank_sum"]["fired"], spread
    assert not spread["ks_gold_vs_work"]["fired"], spread
    assert not spread["ks_gold_vs_uniform"]["fired"], spread
    assert not any(s["fired"] for s in spread["sniffer"]), spread

    # The same checks on the sequential ids see the gold block at once.
    ids = internal[True] + internal[False]
    leak = _clustering(internal[True], internal[False], min(ids), max(ids))
    print("sequential ids:", leak)
    assert leak["rank_sum"]["fired"] and leak["ks_gold_vs_work"]["fired"], leak
    assert all(s["fired"] for s in leak["sniffer"]), leak
