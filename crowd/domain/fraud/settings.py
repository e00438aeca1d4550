"""A project's fraud-rule switches and thresholds (pure).

They are ordinary project settings (``crowd.domain.settings.SETTINGS``), flat
numbers validated like the others; a rule whose threshold is 0 is off:

=======================  =======  ===========================================
setting                  default  meaning
=======================  =======  ===========================================
fast_answer_ms           1000     an answer reported faster than this is fast
                                  (0: the too-fast rule is off)
fast_answer_count        4        fast answers, among the last
fast_answer_window       10       ... answers, that fire the rule
same_label_alpha         1e-6     false-alarm rate per answer of the run rule
majority_alpha           1e-4     false-alarm rate per check, majority rule
collusion_alpha          1e-6     false-alarm rate per pair and check
collusion_min_shared     20       shared items a pair needs to be tested
sniffing_alpha           1e-4     false-alarm rate per check, sniffing rule
=======================  =======  ===========================================
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

FRAUD_SETTINGS: tuple[tuple[str, type, Any, float, float], ...] = (
    ("fast_answer_ms", int, 1000, 0, 3_600_000),
    ("fast_answer_count", int, 4, 1, 100),
    ("fast_answer_window", int, 10, 1, 100),
    ("same_label_alpha", float, 1e-6, 0.0, 0.01),
    ("majority_alpha", float, 1e-4, 0.0, 0.01),
    ("collusion_alpha", float, 1e-6, 0.0, 0.01),
    ("collusion_min_shared", int, 20, 5, 100_000),
    ("sniffing_alpha", float, 1e-4, 0.0, 0.01),
)


FRAUD_SETTING_HELP = {
    "fast_answer_ms": "too-fast rule: an answer reported faster than this (ms) is fast; 0 is off",
    "fast_answer_count": "too-fast rule: fast answers among the last fast_answer_window that fire",
    "fast_answer_window": "too-fast rule: how many recent answers are looked at",
    "same_label_alpha": "same-label run rule: false-alarm rate per answer; 0 is off",
    "majority_alpha": "majority-clicker rule: false-alarm rate per check; 0 is off",
    "collusion_alpha": "collusion rule: false-alarm rate per pair and check; 0 is off",
    "collusion_min_shared": "collusion rule: shared items a pair needs before it is tested",
    "sniffing_alpha": "gold-sniffing check: false-alarm rate per check; 0 is off",
}


@dataclass(frozen=True)
class FraudSettings:
    """The fraud settings of one project, detached from the database row."""

    fast_answer_ms: int = 1000
    fast_answer_count: int = 4
    fast_answer_window: int = 10
    same_label_alpha: float = 1e-6
    majority_alpha: float = 1e-4
    collusion_alpha: float = 1e-6
    collusion_min_shared: int = 20
    sniffing_alpha: float = 1e-4

    @classmethod
    def of(cls, project: Any) -> FraudSettings:
        """Read the settings off any object with the setting attributes."""
        return cls(**{f.name: getattr(project, f.name) for f in fields(cls)})
