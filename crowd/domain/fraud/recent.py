"""A worker's recent answers in brief, so the per-answer rules read no rows (pure).

The too-fast and same-label-run rules (``speed``, ``runs``) judge the worker's
work-mode answers since they last became active. Reading those answers is a
query per answer; this summary, kept on the worker's standing and updated with
each answer, says whether either rule *could* fire: the reported durations of
the last ``MAX_WINDOW`` answers and the length of the run of one label that
ends at the latest. Only when it could are the answers read and the rules run
on them as before, so the rules decide exactly what they decided without it.

``None`` means "not known" (a worker's first answers, or after any change of
state): the answers are then read, and the summary rebuilt from them.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crowd.domain.fraud.runs import MAX_RUN

# The largest ``fast_answer_window`` a project may set (crowd.domain.fraud.settings).
MAX_WINDOW = 100


def summary(answers: Sequence[tuple[str, int | None]]) -> dict[str, Any]:
    """The summary of ``answers`` (label, reported duration), oldest first, all of
    them since the worker became active or at least the last ``MAX_RUN``."""
    recent = list(answers)[-MAX_RUN:]
    run = 0
    for label, _ms in reversed(recent):
        if label != recent[-1][0]:
            break
        run += 1
    return {"ms": [ms for _label, ms in recent][-MAX_WINDOW:],
            "run_label": recent[-1][0] if recent else None, "run": run}


def with_answer(known: dict[str, Any] | None, label: str,
                duration_ms: int | None) -> dict[str, Any] | None:
    """``known`` after one more answer (None stays None: nothing to build on)."""
    if known is None:
        return None
    run = known["run"] + 1 if known["run_label"] == label else 1
    return {"ms": [*known["ms"], duration_ms][-MAX_WINDOW:], "run_label": label,
            "run": min(run, MAX_RUN)}


def may_fire(known: dict[str, Any], floor_ms: int, count: int, window: int,
             shortest_run: int) -> bool:
    """Whether the too-fast rule (``count`` of the last ``window`` under ``floor_ms``)
    or a run of ``shortest_run`` or more (0: the run rule is off) is possible."""
    durations = known["ms"]
    fast = floor_ms > 0 and len(durations) >= count and sum(
        1 for ms in durations[-window:] if ms is not None and ms < floor_ms) >= count
    return fast or (shortest_run > 0 and known["run"] >= shortest_run)
