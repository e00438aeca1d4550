"""The report's measures per kind of worker (pure): what each kind left in the final
data, when each worker was first sanctioned, how well sniffers guessed gold, what
colluding groups got into completed items, and accuracy per class."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from statistics import median
from typing import Any

SANCTIONS = ("retraining", "suspended")
SCORED_STATUSES = ("complete", "resolved", "in_review")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def class_accuracy(results: Iterable[Mapping[str, Any]], truth: Mapping[str, str],
                   labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy of the scored results per true class; ``rarest`` is the class with
    the fewest work items."""
    items: Counter[str] = Counter()
    scored: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    for row in results:
        true = truth[row["external_id"]]
        items[true] += 1
        if row["status"] in SCORED_STATUSES and row.get("label") is not None:
            scored[true] += 1
            correct[true] += row["label"] == true
    classes = {label: {"items": items[label], "scored": scored[label],
                       "correct": correct[label],
                       "accuracy": correct[label] / scored[label] if scored[label] else None}
               for label in labels}
    present = [label for label in labels if items[label]]
    rarest = min(present, key=lambda label: items[label]) if present else None
    return {"classes": classes, "rarest": rarest,
            "rarest_accuracy": classes[rarest]["accuracy"] if rarest else None}


def sanction_point(rows: Sequence[Mapping[str, Any]], history: Sequence[Mapping[str, Any]]
                   ) -> dict[str, Any]:
    """When a worker was first moved to retraining or suspension: how many answers
    (all, work mode, gold in any mode, hidden gold in work) it had given by then,
    the answer that triggered it included. ``rows``: its labels, in order."""
    event = next((e for e in history if e["to"] in SANCTIONS), None)
    if event is None:
        return {"sanctioned": False}
    at = _time(event["at"])
    before = [r for r in rows if _time(r["created_at"]) <= at]
    return {"sanctioned": True, "to": event["to"], "reason": event["reason_code"],
            "at": event["at"], "answers": len(before),
            "work_answers": sum(r["mode"] == "work" for r in before),
            "gold_answers": sum(bool(r["is_gold"]) for r in before),
            "hidden_gold": sum(bool(r["is_gold"]) and r["mode"] == "work" for r in before)}


def guessing(guesses: Iterable[tuple[str, bool]], gold: set[str]) -> dict[str, Any]:
    """Precision and recall of gold guesses ((ref, guessed gold) per work offer)
    against the truth; ``gold_rate`` is the share of the offers that were gold,
    the precision of guessing blindly."""
    tp = fp = fn = tn = 0
    for ref, guessed in guesses:
        actual = ref in gold
        tp += guessed and actual
        fp += guessed and not actual
        fn += actual and not guessed
        tn += not guessed and not actual
    offers = tp + fp + fn + tn
    return {"offers": offers, "guessed_gold": tp + fp, "gold_offers": tp + fn,
            "true_positives": tp, "false_positives": fp,
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / (tp + fn) if tp + fn else None,
            "gold_rate": (tp + fn) / offers if offers else None}


def _left(rows: Iterable[Mapping[str, Any]], truth: Mapping[str, str]) -> tuple[int, int]:
    kept = [r for r in rows if not r["is_gold"] and r.get("counted", True)]
    return len(kept), sum(r["label"] != truth[r["external_id"]] for r in kept)


def per_kind(sim: Any, by_worker: Mapping[str, Sequence[Mapping[str, Any]]],
             histories: Mapping[str, Sequence[Mapping[str, Any]]],
             truth: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Per kind: answers, labels left (counted, and of those wrong), sanctions, and
    for sniffers their guessing; the keys added to ``workers_by_kind``."""
    out: dict[str, dict[str, Any]] = {}
    for worker in sim.workers:
        rows = by_worker.get(worker.username, [])
        entry = out.setdefault(worker.kind, {"answers": 0, "labels_left": 0,
                                             "labels_left_wrong": 0, "sanctioned": 0,
                                             "first_sanctions": [], "_guesses": []})
        entry["answers"] += worker.answers
        left, wrong = _left(rows, truth)
        entry["labels_left"] += left
        entry["labels_left_wrong"] += wrong
        point = sanction_point(rows, histories.get(worker.username, []))
        entry["sanctioned"] += point["sanctioned"]
        entry["first_sanctions"].append({"worker": worker.username, **point})
        entry["_guesses"].extend(worker.guesses)
    for kind, entry in out.items():
        points = [p for p in entry["first_sanctions"] if p["sanctioned"]]
        entry["median_answers_to_sanction"] = median(p["answers"] for p in points) \
            if points else None
        entry["median_gold_to_sanction"] = median(p["gold_answers"] for p in points) \
            if points else None
        entry["sanction_reasons"] = dict(sorted(Counter(p["reason"] for p in points).items()))
        guesses = entry.pop("_guesses")
        if kind.startswith("sniffer"):
            entry["sniffing"] = guessing(guesses, sim.project.gold)
    return out


def collusion(sim: Any, by_worker: Mapping[str, Sequence[Mapping[str, Any]]],
              histories: Mapping[str, Sequence[Mapping[str, Any]]],
              results: Iterable[Mapping[str, Any]], truth: Mapping[str, str]
              ) -> list[dict[str, Any]]:
    """Per colluding group: the labels its members put into items the crowd
    completed before each member's first sanction, how many of them were the
    pushed label, and the completed items of the target class that ended with it."""
    final = {r["external_id"]: r for r in results}
    labels = sim.project.labels
    groups: dict[int, dict[str, Any]] = {}
    for worker in sim.workers:
        if worker.kind != "colluder":
            continue
        mind = worker.mind
        group = groups.setdefault(mind.group, {
            "group": mind.group, "members": [], "target": labels[mind.target],
            "pushed": labels[mind.pushed], "labels_in_completed_before_sanction": 0,
            "pushed_in_completed_before_sanction": 0, "sanctioned": 0, "_items": set()})
        group["members"].append(worker.username)
        point = sanction_point(by_worker.get(worker.username, []),
                               histories.get(worker.username, []))
        group["sanctioned"] += point["sanctioned"]
        until = _time(point["at"]) if point["sanctioned"] else None
        for row in by_worker.get(worker.username, []):
            item = final.get(row["external_id"])
            if row["is_gold"] or item is None or item["status"] != "complete":
                continue
            group["_items"].add(row["external_id"])
            if until is None or _time(row["created_at"]) <= until:
                group["labels_in_completed_before_sanction"] += 1
                group["pushed_in_completed_before_sanction"] += (
                    row["label"] == group["pushed"] and truth[row["external_id"]]
                    == group["target"])
    out = []
    for group in groups.values():
        touched = group.pop("_items")
        group["target_items_flipped"] = sum(
            truth[ref] == group["target"] and final[ref]["label"] == group["pushed"]
            for ref in touched)
        out.append(group)
    return out


def first_sanction(history: Sequence[Mapping[str, Any]], since: datetime | None = None
                   ) -> Mapping[str, Any] | None:
    """The first move to retraining or suspension (at or after ``since``), or None."""
    for event in history:
        if event["to"] in SANCTIONS and (since is None or _time(event["at"]) >= since):
            return event
    return None


def drift_delay(
    rows: Sequence[Mapping[str, Any]], onset_ref: str | None,
    history: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """How many hidden-gold answers a drifter gave from its onset until sanctioned.

    ``rows`` are the drifter's own labels in the order given (the labels export);
    ``onset_ref`` is the external id of its first degraded answer. The count is
    of ``is_gold`` work-mode answers from that answer on, up to and including the
    moment of the first move to retraining or suspension after it.
    """
    if onset_ref is None:
        return {"reached_onset": False, "sanctioned": False, "gold_after_onset": 0,
                "delay": None, "reason": None}
    start = next((i for i, r in enumerate(rows) if r["external_id"] == onset_ref), None)
    if start is None:
        raise ValueError(f"the onset answer {onset_ref!r} is not among the worker's labels")
    onset_at = _time(rows[start]["created_at"])
    event = first_sanction(history, onset_at)
    gold = [_time(r["created_at"]) for r in rows[start:] if r["is_gold"] and r["mode"] == "work"]
    if event is None:
        return {"reached_onset": True, "sanctioned": False, "gold_after_onset": len(gold),
                "delay": None, "reason": None}
    at = _time(event["at"])
    return {"reached_onset": True, "sanctioned": True, "gold_after_onset": len(gold),
            "delay": sum(t <= at for t in gold), "reason": event["reason_code"],
            "state": event["to"]}


# The bound: a slow drifter is sanctioned within this many hidden-gold
# answers after its accuracy falls below the project's min_accuracy.
SLOW_DRIFT_BOUND = 15


def crossing_answer(mind: Any, min_accuracy: float) -> int | None:
    """The first work answer (counting from 0) a slow drifter gives below
    ``min_accuracy`` by its own schedule, or None if it never falls that low."""
    for n in range(mind.after, mind.after + mind.over + 1):
        if mind.accuracy(n) < min_accuracy:
            return n
    return None


def slow_drifters(sim: Any, by_worker: Mapping[str, Sequence[Mapping[str, Any]]],
                  histories: Mapping[str, Sequence[Mapping[str, Any]]],
                  min_accuracy: float) -> list[dict[str, Any]]:
    """Per slow drifter, ``drift_delay`` counted from its first work-mode answer
    given below ``min_accuracy`` (hidden gold and work alike, as its schedule
    counts them), with that answer's position."""
    out = []
    for worker in sim.workers:
        if worker.kind != "slow_drifter":
            continue
        rows = by_worker.get(worker.username, [])
        n = crossing_answer(worker.mind, min_accuracy)
        work = [r for r in rows if r["mode"] == "work"]
        ref = work[n]["external_id"] if n is not None and n < len(work) else None
        out.append({"worker": worker.username, "crossing_answer": n,
                    **drift_delay(rows, ref, histories.get(worker.username, []))})
    return out


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def render_kinds(report: Mapping[str, Any]) -> list[str]:
    """The report's lines on the kinds of worker, per class accuracy, sniffing and
    collusion."""
    by_class = report["accuracy_by_class"]
    lines = ["accuracy by class: " + ", ".join(
        f"{label} {_num(c['accuracy'])} ({c['items']} items)"
        for label, c in by_class["classes"].items())
        + f"; rarest {by_class['rarest']}: {_num(by_class['rarest_accuracy'])}", "",
        "kinds (answers; work labels left counted / of them wrong; sanctioned, median "
        "answers and gold answers before the first sanction, reasons):"]
    for kind, v in report["workers_by_kind"].items():
        if "answers" not in v:
            continue
        lines.append(
            f"  {kind}: {v['workers']} workers, {v['answers']} answers; labels left "
            f"{v['labels_left']} / wrong {v['labels_left_wrong']}; sanctioned "
            f"{v['sanctioned']}/{v['workers']}"
            + (f" after {v['median_answers_to_sanction']:g} answers, "
               f"{v['median_gold_to_sanction']:g} gold ("
               + ", ".join(f"{r} {n}" for r, n in v["sanction_reasons"].items()) + ")"
               if v["sanctioned"] else ""))
        if kind != "reliable" or v["sanctioned"]:
            lines.append("    first sanctions (answers/gold, reason): " + ", ".join(
                f"{p['answers']}/{p['gold_answers']} {p['reason']}" if p["sanctioned"]
                else "never" for p in v["first_sanctions"]))
        sniff = v.get("sniffing")
        if sniff:
            lines.append(f"    guessing gold: precision {_num(sniff['precision'])}, recall "
                         f"{_num(sniff['recall'])} vs gold rate {_num(sniff['gold_rate'])} "
                         f"({sniff['guessed_gold']} guessed of {sniff['offers']} work offers, "
                         f"{sniff['gold_offers']} gold)")
    for g in report["collusion"]:
        lines.append(f"  colluding group {g['group']} ({len(g['members'])} workers, "
                     f"{g['target']} -> {g['pushed']}, {g['sanctioned']} sanctioned): "
                     f"{g['labels_in_completed_before_sanction']} labels in completed items "
                     f"before a sanction, {g['pushed_in_completed_before_sanction']} of them "
                     f"the pushed label; {g['target_items_flipped']} {g['target']} items "
                     f"completed as {g['pushed']}")
    return lines
