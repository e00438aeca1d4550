"""What each project setting means, in one wording for every place that shows it:
the manager's project form, ``crowd projects create --help`` and the README."""
from __future__ import annotations

from crowd.domain.fraud.settings import FRAUD_SETTING_HELP

SETTING_HELP = {
    "redundancy": "distinct workers per item before it can complete",
    "max_redundancy": "the most workers an item may get when its labels disagree",
    "confidence_threshold": "posterior probability of the top label needed to complete "
                            "an item",
    "gold_rate": "share of an active worker's items that are hidden gold",
    "lease_seconds": "seconds a worker holds an item before it returns to the pool",
    "qualification_size": "gold items a new worker answers, with feedback, before real "
                          "work (0: none)",
    "qualification_accuracy": "accuracy needed on them to become active",
    "min_accuracy": "accuracy floor an active worker must keep; the quality tests send "
                    "a worker below it to retraining",
    "drift_window": "work labels per step of the estimated-accuracy drift test "
                    "(it reads 2 to 5 times this many)",
    "review_rate": "share of completed items also sent to an expert at random",
    **FRAUD_SETTING_HELP,
}
