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
(``crowd.services.sanctions.sanction_low_quality``). The first low-quality
finding since the last manager decision (a fraud rule's, or a drift check's:
the gold CUSUM, the agreement CUSUM, the Dawid-Skene check) sends the worker to
``retraining``; any later one suspends them. So a worker who passes retraining
on gold with feedback and goes back to bad work (a gold sniffer does exactly
that) is suspended the second time, not retrained forever. There is no
"weight down" step: every rule fires only at a false-alarm rate of 1e-4 per
check or less, so when one fires the evidence is already strong, and the
labels behind it are weighed at zero (discounted), not merely less. The cost
of the second step: an honest worker at 0.85 raises a false drift alarm 0.049
times per 1,000 answers (``crowd.domain.sequential``), so two within 1,000
answers (Poisson, 0.049^2 / 2) happen to about 1 such worker in 800; at 0.9,
1 in 100,000.
"""
from __future__ import annotations

from collections.abc import Iterable

FAST = "too_fast"
RUN = "same_label_run"
MAJORITY = "majority_clicker"
COLLUSION = "collusion"
SNIFFING = "gold_sniffing"
FRAUD_CODES = (FAST, RUN, MAJORITY, COLLUSION, SNIFFING)
# The drift checks' reason codes (crowd.services.drift): strikes on the same ladder.
DRIFT_CODES = ("drift", "agreement_drift", "low_estimated_accuracy")
QUALITY_CODES = FRAUD_CODES + DRIFT_CODES


def sanction_step(earlier_codes: Iterable[str]) -> str:
    """The state a low-quality finding sends a worker to, given the reason codes of
    the worker's earlier state changes since the last manager decision (oldest first)."""
    strikes = sum(1 for code in earlier_codes if code in QUALITY_CODES)
    return "retraining" if strikes == 0 else "suspended"
