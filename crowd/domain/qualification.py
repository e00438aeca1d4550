"""Qualification and retraining rounds: when a worker passes or fails (pure).

A round is a truncated sequential probability ratio test (Wald's SPRT) of
"the worker answers gold correctly with probability ``p_good``" against
"with probability ``p_bad``", around the project's bar ``qualification_accuracy``
(``bar`` below):

    p_bad  = bar - 0.20        p_good = bar + 0.05
    (kept inside (0, 1): at least bar / 2, at most (1 + bar) / 2)

After k correct of n gold answers the log-likelihood ratio is

    LLR = k * log(p_good / p_bad) + (n - k) * log((1 - p_good) / (1 - p_bad))

and the round ends as soon as one of these holds, checked in this order:

* **fail** when LLR <= log(BETA / (1 - ALPHA)) = -3.89 (ALPHA = BETA = 0.02).
  An early fail may come before ``qualification_size`` answers: it takes
  overwhelming evidence (at a 0.7 bar, six misses in a row, which a worker at
  0.8 gives once in 15,600 rounds; at a 0.8 bar, four, once in 10,000 for a
  worker at 0.9).
* **pass** when n >= ``qualification_size`` and LLR >= the upper boundary
  min(log((1 - BETA) / ALPHA), qualification_size * log(p_good / p_bad)).
  A pass never comes before the nominal round size; the second term means a
  perfect nominal round always passes, as it did before (without it, a small
  round, say 4 items, could never stop before its cap).
* at the **cap**, n = CAP_FACTOR x ``qualification_size`` (3 x 10 = 30 by
  default), or when the worker's unseen gold runs out (``exhausted``): pass
  when LLR >= 0, that is when the round's accuracy is at least the cut where
  the two hypotheses are equally likely (0.631 at a 0.7 bar: 19 of 30; 0.738
  at a 0.8 bar: 23 of 30).

So ``qualification_size`` keeps its meaning as the nominal round size: a worker
answers at least that many before passing and at most three times that many.
The hypotheses are asymmetric on purpose: the round is built to keep a worker
0.1 above the bar (failing them costs a good worker) and to stop one 0.2 below
it; a worker exactly at the bar is in the indifference zone and passes most
rounds. The cap is what limits the second error at a 0.7 bar: by the
Neyman-Pearson lemma no rule that looks at 30 answers or fewer and fails at
most 2% of 0.8-workers can pass fewer than 6.7% of 0.5-workers (a fixed
30-item round with a whole-number cut, 10.0%); this rule passes 10.0% of them,
in 21.9 answers on average. A cap of 4 x qualification_size would bring that
to 4.3% for about three more answers per round.

The operating characteristic below is exact (``operating_characteristic``, a
dynamic programme over (answers, correct) with these absorbing boundaries);
qualification_size = 10, unlimited gold. The old fixed rule (exactly 10
answers, pass at accuracy >= bar) is given for comparison.

    bar 0.7  accuracy   P(fail)   expected answers   old rule P(fail)
               0.30      0.9998        11.5              0.9894
               0.50      0.9000        21.9              0.8281
               0.60      0.5707        26.4              0.6177
               0.70      0.1615        25.8              0.3504
               0.80      0.0100        20.2              0.1209
               0.85      0.0009        16.8              0.0500
               0.90      0.0000        13.9              0.0128
               0.95      0.0000        11.7              0.0010

    bar 0.8  accuracy   P(fail)   expected answers   old rule P(fail)
               0.50      0.9958        13.4              0.9453
               0.60      0.9489        19.1              0.8327
               0.70      0.7040        24.2              0.6172
               0.80      0.2318        23.4              0.3222
               0.85      0.0677        20.1              0.1798
               0.90      0.0077        16.1              0.0702
               0.95      0.0001        12.5              0.0115

A round that ends with no answers at all (the project has no gold to give)
lets the worker in rather than locking them out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CAP_FACTOR = 3  # a round ends after at most CAP_FACTOR x qualification_size gold answers
BELOW = 0.20  # p_bad = bar - BELOW: the accuracy the round is built to stop
ABOVE = 0.05  # p_good = bar + ABOVE: the accuracy the round is built to let in
ALPHA = 0.02  # Wald's nominal chance of passing a worker at p_bad
BETA = 0.02  # Wald's nominal chance of failing a worker at p_good
EPS = 1e-9  # floating-point slack on the boundaries


@dataclass(frozen=True)
class StateChange:
    """A decided change of a worker's state, with its recorded reason."""

    to_state: str
    reason_code: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SequentialRule:
    """The boundaries of one project's rounds; ``for_round`` builds the default."""

    bar: float
    at_least: int  # answers before a pass (qualification_size)
    at_most: int  # the cap
    p_bad: float
    p_good: float
    upper: float  # pass boundary on the LLR
    lower: float  # fail boundary on the LLR

    @classmethod
    def for_round(cls, size: int, bar: float) -> SequentialRule:
        """The rule for a project's ``qualification_size`` and ``qualification_accuracy``."""
        size = max(size, 0)
        p_bad = round(min(max(bar - BELOW, bar / 2), bar), 12)
        p_good = round(max(min(bar + ABOVE, (1 + bar) / 2), bar), 12)
        rule = cls(bar, size, CAP_FACTOR * size, p_bad, p_good, -math.inf, -math.inf)
        if not 0 < bar < 1:  # nothing to test: a bar of 0 or of 1 decides by itself
            return rule
        upper = min(math.log((1 - BETA) / ALPHA), size * rule.hit) if size else 0.0
        return cls(bar, size, CAP_FACTOR * size, p_bad, p_good, upper,
                   math.log(BETA / (1 - ALPHA)))

    @property
    def hit(self) -> float:
        """What one correct answer adds to the LLR."""
        return math.log(self.p_good / self.p_bad) if 0 < self.bar < 1 else 0.0

    @property
    def miss(self) -> float:
        """What one wrong answer adds to the LLR (negative)."""
        return math.log((1 - self.p_good) / (1 - self.p_bad)) if 0 < self.bar < 1 else 0.0

    def llr(self, seen: int, correct: int) -> float:
        """The log-likelihood ratio of p_good against p_bad after ``correct`` of ``seen``."""
        return correct * self.hit + (seen - correct) * self.miss

    def decide(
        self, seen: int, correct: int, *, exhausted: bool = False
    ) -> tuple[bool, str] | None:
        """(passed, decided_by) once the round is decided, else None.

        ``decided_by`` is ``lower`` or ``upper`` (a boundary was crossed),
        ``cap`` or ``exhausted`` (decided on the LLR's sign), or ``no_gold``.
        A bar of 0 passes everyone at the nominal size; a bar of 1 fails at the
        first miss.
        """
        if seen == 0:
            return (True, "no_gold") if exhausted or self.at_most == 0 else None
        if self.bar >= 1 and correct < seen:
            return False, "lower"
        score = self.llr(seen, correct)
        if score <= self.lower + EPS:
            return False, "lower"
        if seen >= self.at_least and score >= self.upper - EPS:
            return True, "upper"
        if seen >= self.at_most or exhausted:
            return score >= -EPS, "cap" if seen >= self.at_most else "exhausted"
        return None

    def describe(self) -> dict[str, Any]:
        """The rule's parameters, as recorded with each decision."""
        return {"rule": "sprt", "required_accuracy": self.bar, "p_bad": round(self.p_bad, 4),
                "p_good": round(self.p_good, 4), "pass_llr": _finite(self.upper),
                "fail_llr": _finite(self.lower), "at_least": self.at_least,
                "at_most": self.at_most}


def _finite(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None


def initial_state(qualification_size: int) -> StateChange:
    """A worker's first state in a project: qualification, unless none is asked."""
    if qualification_size <= 0:
        return StateChange("active", "no_qualification", "the project asks for no qualification")
    return StateChange(
        "qualification", "new_worker",
        f"answer qualification items to start working: at least {qualification_size}, "
        f"at most {CAP_FACTOR * qualification_size}, until your accuracy is clear",
    )


def round_progress(seen: int, size: int) -> str:
    """How far a worker is in a round, in words for the worker page."""
    return (f"answered {seen}; the round continues until decided, "
            f"at most {CAP_FACTOR * max(size, 0)}")


def round_result(
    state: str, seen: int, correct: int, size: int, threshold: float, *, exhausted: bool = False
) -> StateChange | None:
    """The outcome of a qualification or retraining round, or None while it goes on.

    ``size`` is ``qualification_size`` and ``threshold`` ``qualification_accuracy``;
    the rule is ``SequentialRule.for_round(size, threshold)`` (module docstring).
    ``exhausted`` means no unseen gold is left for the worker: the round is
    decided on what was answered. The evidence records the counts, the LLR and
    the rule's boundaries.
    """
    rule = SequentialRule.for_round(size, threshold)
    decided = rule.decide(seen, correct, exhausted=exhausted)
    if decided is None:
        return None
    passed, by = decided
    kind = "qualification" if state == "qualification" else "retraining"
    evidence: dict[str, Any] = {"seen": seen, "correct": correct, **rule.describe(),
                                "decided_by": by}
    if by == "no_gold":
        return StateChange("active", "no_gold", f"no gold items are left for {kind}", evidence)
    accuracy = correct / seen
    evidence["accuracy"] = round(accuracy, 4)
    evidence["llr"] = round(rule.llr(seen, correct), 4)
    if passed:
        return StateChange(
            "active", f"{kind}_passed",
            f"passed {kind}: {correct}/{seen} correct ({accuracy:.0%})", evidence,
        )
    return StateChange(
        "suspended", f"{kind}_failed",
        f"failed {kind}: {correct}/{seen} correct ({accuracy:.0%}), "
        f"{threshold:.0%} needed", evidence,
    )


def operating_characteristic(rule: SequentialRule, p: float) -> tuple[float, float]:
    """(P(pass), expected answers) of a round for a worker of true accuracy ``p``.

    Exact: the distribution of correct answers is carried forward one answer at
    a time, and the mass on decided (n, k) cells is absorbed. Gold is assumed
    never to run out.
    """
    alive = np.array([1.0])  # alive[k]: P(k correct after n answers, undecided)
    passed = answers = 0.0
    for n in range(rule.at_most + 1):
        for k in range(n + 1):
            decided = rule.decide(n, k)
            if decided is not None and alive[k] > 0:
                passed += alive[k] * decided[0]
                answers += alive[k] * n
                alive[k] = 0.0
        if not alive.any():
            break
        alive = np.concatenate([alive * (1 - p), [0.0]]) + np.concatenate([[0.0], alive * p])
    return passed, answers
