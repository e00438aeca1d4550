"""What undoing a worker's last answer puts back (pure).

An answer given in work mode by an active worker changes a few values of their
standing (gold record, work label count, the gold CUSUM, the fraud rules'
summary of recent answers) and, for a work item, the item's count, posterior,
result, status and label target (for hidden gold, whether it was answered). When the project allows undo, the answer keeps
those values as they were before it and as it left them (``snapshot``) on the
worker's standing, written in the UPDATE of the standing that the answer sends
anyway. Undo then puts the "before" values back, so answer, undo and the same
answer again leave the database as one answer would.

The "after" values tell undo whether anything else changed them since: a state
change (a sanction, a manager's override) changes the standing's state fields,
and another worker's label, a discount, an aggregation run or an expert changes
the item. A changed standing refuses the undo; a changed item is reopened and
settled from the labels it still has instead of being put back.

A hidden gold item's answer changes only its ``started`` flag (answered at least
once): its snapshot keeps it as for a work item, and undo puts it back unless
someone answered the item since, with the same statements.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Standing values a work-mode answer of an active worker may change (without a state change).
STANDING_FIELDS = ("gold_seen", "gold_correct", "hidden_gold_seen", "hidden_gold_correct",
                   "work_labels", "gold_cusum", "gold_cusum_zero_at", "recent_answers")
# Compared, never put back: any change of state since the answer refuses the undo.
STATE_FIELDS = ("state", "state_reason_code", "state_reason", "state_changed_at")
# Item values an answer on a work item may change.
ITEM_FIELDS = ("n_labels", "started", "needed", "status", "review_reason", "posterior",
               "result_label", "confidence", "result_source")
TIMES = frozenset({"gold_cusum_zero_at", "state_changed_at"})


def undoable(allow_undo: bool, mode: str, state: str) -> bool:
    """Whether an answer may be undone later: the project allows it, it was given
    in work mode (no feedback) and the worker is active once it is stored."""
    return allow_undo and mode == "work" and state == "active"


def values(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """``row``'s attributes ``names`` as JSON values (times as ISO 8601 in UTC)."""
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(row, name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat()
        out[name] = copy.deepcopy(value)
    return out


def stored(name: str, value: Any) -> Any:
    """A kept JSON value as the column holds it (times back to datetimes)."""
    if name in TIMES and value is not None:
        return datetime.fromisoformat(value)
    return value


@dataclass(frozen=True)
class Before:
    """The standing's and the item's values as the answer found them."""

    standing: dict[str, Any]
    item: dict[str, Any]

    @classmethod
    def of(cls, standing: Any, item: Any) -> Before:
        return cls(values(standing, STANDING_FIELDS), values(item, ITEM_FIELDS))


def snapshot(before: Before, assignment_id: int, standing: Any, item: Any) -> dict[str, Any]:
    """What the answer to ``assignment_id`` changed: the standing's values before and
    after it (with its state) and the item's."""
    return {
        "assignment": assignment_id,
        "standing": {"before": before.standing,
                     "after": values(standing, STANDING_FIELDS + STATE_FIELDS)},
        "item": {"before": before.item, "after": values(item, ITEM_FIELDS)},
    }


def standing_unchanged(kept: dict[str, Any], standing: Any) -> bool:
    """Whether the standing is as the kept answer left it (no state change since)."""
    return bool(values(standing, STANDING_FIELDS + STATE_FIELDS) == kept["standing"]["after"])


def item_unchanged(kept: dict[str, Any], item: Any) -> bool:
    """Whether the item is as the kept answer left it (nobody labelled, discounted,
    aggregated or resolved it since; for hidden gold, nobody answered it since)."""
    return bool(kept["item"] is not None and values(item, ITEM_FIELDS) == kept["item"]["after"])
