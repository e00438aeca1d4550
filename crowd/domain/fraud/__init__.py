"""Fraud rules (pure): each one a test of an honest-worker model with a stated
false-alarm rate, and the ladder of sanctions they share.

One module per rule: ``speed`` (too-fast answers), ``runs`` (long runs of one
label), ``majority`` (one label far above its share), ``collusion`` (pairs who
agree more than their accuracies explain) and ``sniffing`` (hidden gold much
better than work). ``settings`` reads a project's switches and thresholds;
``stats`` holds the exact binomial tails and share bounds they use.

**What a rule may look at.** Only evidence given since the worker last became
active (``WorkerStanding.state_changed_at``): a sanction, a passed round and a
manager's override all start it afresh, so no rule fires twice on the same
answers and a manager's decision is never overturned by the evidence it was
made on.

**The ladder.** Labels since the rule's onset always stop counting
(``crowd.services.sanctions.sanction_low_quality``). The first fraud finding
since the last manager decision sends the worker to ``retraining``; any later
one suspends them. There is no "weight down" step: every rule fires only at a
false-alarm rate of 1e-4 per check or less, so when one fires the evidence is
already strong, and the labels behind it are weighed at zero (discounted), not
merely less.
"""
from __future__ import annotations

from collections.abc import Iterable

FAST = "too_fast"
RUN = "same_label_run"
MAJORITY = "majority_clicker"
COLLUSION = "collusion"
SNIFFING = "gold_sniffing"
FRAUD_CODES = (FAST, RUN, MAJORITY, COLLUSION, SNIFFING)


def sanction_step(earlier_codes: Iterable[str]) -> str:
    """The state a fraud finding sends a worker to, given the reason codes of the
    worker's earlier sanctions since the last manager decision (oldest first)."""
    strikes = sum(1 for code in earlier_codes if code in FRAUD_CODES)
    return "retraining" if strikes == 0 else "suspended"
