"""What a simulation shows: measures computed from the server's own exports (pure),
and the printed report."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from crowd.simulate.options import SHARE_OPTIONS
from crowd.simulate.report_kinds import (
    SLOW_DRIFT_BOUND,
    class_accuracy,
    collusion,
    drift_delay,
    first_sanction,
    per_kind,
    render_kinds,
    slow_drifters,
)

# The targets of the issue that asked for the simulator, checked on every report.
TARGET_ACCURACY = 0.97
TARGET_LABELS_PER_ITEM = 4.5
# Items whose label counts towards accuracy: completed by the crowd, resolved by
# the (oracle) expert, or waiting in review with the crowd's best label.
SCORED_STATUSES = ("complete", "resolved", "in_review")


def accuracy(results: Iterable[Mapping[str, Any]], truth: Mapping[str, str]) -> dict[str, Any]:
    """Accuracy against ``truth`` (external id -> label) of the result rows.

    ``overall`` is over items in ``SCORED_STATUSES`` with a label; ``crowd`` over
    those the crowd completed (no expert involved); ``statuses`` counts every row.
    """
    statuses: Counter[str] = Counter()
    scored = correct = crowd = crowd_correct = 0
    for row in results:
        statuses[row["status"]] += 1
        if row["status"] not in SCORED_STATUSES or row.get("label") is None:
            continue
        hit = row["label"] == truth[row["external_id"]]
        scored += 1
        correct += hit
        if row["status"] == "complete":
            crowd += 1
            crowd_correct += hit
    return {"overall": correct / scored if scored else None, "scored": scored,
            "crowd": crowd_correct / crowd if crowd else None, "crowd_items": crowd,
            "statuses": dict(sorted(statuses.items()))}


def open_takeable(results: Iterable[Mapping[str, Any]], labels: Iterable[Mapping[str, Any]],
                  workers: Iterable[Mapping[str, Any]]) -> int:
    """Open items that a worker still active has never labelled, and so could
    have been offered: 0 once a run has ended with every worker told 204. Other
    open items are stranded: everyone left has labelled them (a discounted label
    included), and only a new worker or an expert can finish them."""
    active = {row["username"] for row in workers if row["state"] == "active"}
    seen: dict[str, set[str]] = {}
    for row in labels:
        seen.setdefault(row["external_id"], set()).add(row["worker"])
    return sum(1 for row in results
               if row["status"] == "open" and active - seen.get(row["external_id"], set()))


def label_effort(labels: Iterable[Mapping[str, Any]], n_items: int) -> dict[str, Any]:
    """Work labels per item (all paid for, and those still counted) and gold answers by mode."""
    work = counted = 0
    gold: Counter[str] = Counter()
    for row in labels:
        if row["is_gold"]:
            gold[row["mode"]] += 1
        else:
            work += 1
            counted += bool(row.get("counted", True))
    return {"work_labels": work, "labels_per_item": work / n_items if n_items else None,
            "counted_labels_per_item": counted / n_items if n_items else None,
            "discounted_labels": work - counted,
            "gold_answers": sum(gold.values()), "gold_by_mode": dict(sorted(gold.items())),
            # Of the answers given in work mode, the share that was hidden gold.
            "hidden_gold_share": gold["work"] / (gold["work"] + work) if gold["work"] + work
            else None}


def build(sim: Any, collected: Any, server: str) -> dict[str, Any]:
    """The report of a finished ``Simulation`` and what was ``Collected`` from it."""
    s, project = sim.settings, sim.project
    truth = {ref: project.labels[c] for ref, c in project.truth.items()}
    by_worker: dict[str, list[Mapping[str, Any]]] = {}
    for row in collected.labels:
        by_worker.setdefault(row["worker"], []).append(row)
    table = {row["username"]: row for row in collected.workers}
    kinds: dict[str, dict[str, Any]] = {}
    drifters, sanctioned_reliable = [], []
    for worker in sim.workers:
        standing = table.get(worker.username, {})
        state = standing.get("state", "never started")
        history = collected.histories.get(worker.username, [])
        kind = kinds.setdefault(worker.model.kind, {"workers": 0, "states": Counter(),
                                                    "work_labels": 0, "ever_active": 0})
        kind["workers"] += 1
        kind["states"][state] += 1
        kind["work_labels"] += standing.get("labels", 0)
        kind["ever_active"] += any(e["to"] == "active" for e in history)
        if worker.model.kind == "drifter":
            delay = drift_delay(by_worker.get(worker.username, []), worker.onset_ref, history)
            drifters.append({"worker": worker.username, "final_state": state, **delay})
        if worker.model.kind == "reliable":
            event = first_sanction(history)
            if event is not None:
                sanctioned_reliable.append({"worker": worker.username, "to": event["to"],
                                            "reason": event["reason_code"],
                                            "final_state": state})
    for name, extra in per_kind(sim, by_worker, collected.histories, truth).items():
        kinds[name]["states"] = dict(sorted(kinds[name]["states"].items()))
        kinds[name].update(extra)
    acc = accuracy(collected.results, truth)
    acc["open_takeable"] = open_takeable(collected.results, collected.labels, collected.workers)
    effort = label_effort(collected.labels, s.items)
    reliable_suspended = [w["worker"] for w in sanctioned_reliable
                          if w["final_state"] == "suspended"]
    bound = 2 * s.drift_window
    onset_drifters = [d for d in drifters if d["reached_onset"]]
    caught = [d for d in onset_drifters if d["sanctioned"] and d["delay"] <= bound]
    # Uncaught, but the project ended before they had given ``bound`` gold answers.
    unfinished = [d for d in onset_drifters
                  if not d["sanctioned"] and d["gold_after_onset"] <= bound]
    targets = {
        "accuracy": {"target": f">= {TARGET_ACCURACY}", "value": acc["overall"],
                     "met": acc["overall"] is not None and acc["overall"] >= TARGET_ACCURACY},
        "labels_per_item": {"target": f"<= {TARGET_LABELS_PER_ITEM}",
                            "value": effort["labels_per_item"],
                            "met": effort["labels_per_item"] is not None
                            and effort["labels_per_item"] <= TARGET_LABELS_PER_ITEM},
        "drifters_caught": {"target": f"every drifter within {bound} gold answers of its onset",
                            "value": f"{len(caught)}/{len(onset_drifters)}",
                            "met": len(caught) == len(onset_drifters),
                            "uncaught_before_bound": len(unfinished)},
        "no_reliable_suspended": {"target": "0 reliable workers suspended",
                                  "value": len(reliable_suspended),
                                  "met": not reliable_suspended},
    }
    return {
        "seed": s.seed, "server": server, "project_id": project.id,
        "settings": {"workers": s.workers, "shares": dict(zip(
            SHARE_OPTIONS, s.shares, strict=True)),
            "items": s.items, "gold_items": s.gold_items, "classes": s.classes,
            **s.project_settings(), "drift_onset": s.drift_onset, "threads": s.threads,
            "aggregate_every": s.aggregate_every, "mix": s.mix,
            "class_shares": list(s.class_shares) if s.class_shares else None,
            "reliable_accuracy": list(s.reliable_accuracy) if s.reliable_accuracy else None,
            "collusion_group": s.collusion_group, "slow_drift_after": s.slow_drift_after,
            "slow_drift_over": s.slow_drift_over, "gold_import": s.gold_import},
        "run": {"answers": collected.answers, "seconds": round(collected.seconds, 1),
                "setup_seconds": round(sim.setup_seconds, 1),
                "answers_per_second": round(collected.answers / collected.seconds, 1)
                if collected.seconds else None,
                "aggregations": collected.aggregations,
                "aggregation_seconds": round(collected.aggregation_seconds, 1),
                "aggregation_changes": dict(sorted(collected.aggregation_changes.items())),
                "http_statuses": {str(k): v for k, v in sorted(collected.statuses.items())},
                "reconnects": collected.reconnects, "problems": collected.problems[:20]},
        "progress": collected.project.get("progress"), "accuracy": acc, "effort": effort,
        "expert_reviews": {"resolved": sum(collected.reviews.values()),
                           "by_reason": dict(sorted(collected.reviews.items()))},
        "drifters": drifters, "drift_bound": bound,
        "slow_drifters": slow_drifters(sim, by_worker, collected.histories, s.min_accuracy),
        "slow_drift_bound": SLOW_DRIFT_BOUND,
        "reliable_sanctioned": sanctioned_reliable, "reliable_suspended": reliable_suspended,
        "workers_by_kind": kinds, "targets": targets,
        "accuracy_by_class": class_accuracy(collected.results, truth, project.labels),
        "collusion": collusion(sim, by_worker, collected.histories, collected.results, truth),
    }


def _pct(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _delay_text(d: Mapping[str, Any], never: str, since: str, tail: str) -> str:
    """One drifter's line of a ``drift_delay``: never reached, sanctioned, or not."""
    if not d["reached_onset"]:
        return never
    if d["sanctioned"]:
        return f"{d['state']} after {d['delay']} gold answers ({d['reason']}); {tail}"
    return f"NOT sanctioned; {d['gold_after_onset']} gold answers after {since}"


def render(report: Mapping[str, Any]) -> str:
    """The report as text for a person."""
    s, run, acc, effort = report["settings"], report["run"], report["accuracy"], report["effort"]
    kinds = report["workers_by_kind"]
    crowd = ", ".join(f"{v['workers']} {k}" for k, v in kinds.items())
    lines = [
        f"crowd simulate (seed {report['seed']}): {s['workers']} workers ({crowd}), "
        f"{s['items']} items + {s['gold_items']} gold, {s['classes']} classes",
        f"server: {report['server']}, project {report['project_id']}",
        f"settings: redundancy {s['redundancy']}, max_redundancy {s['max_redundancy']}, "
        f"confidence {s['confidence_threshold']}, gold_rate {s['gold_rate']}, qualification "
        f"{s['qualification_size']} at {s['qualification_accuracy']}, min_accuracy "
        f"{s['min_accuracy']}, drift_window {s['drift_window']}, drift onset after "
        f"{s['drift_onset']} work answers"
        + (f"; mix {s['mix']}" if s.get("mix") else "")
        + (", class shares " + "/".join(f"{x:.2f}" for x in s["class_shares"])
           if s.get("class_shares") else "")
        + (f", reliable accuracy {s['reliable_accuracy'][0]}-{s['reliable_accuracy'][1]}"
           if s.get("reliable_accuracy") else "")
        + f", gold import {s.get('gold_import', 'mixed')}",
        f"run: {run['answers']} answers in {run['seconds']} s ({run['answers_per_second']}/s; "
        f"setup {run['setup_seconds']} s), "
        f"{run['aggregations']} aggregations ({run['aggregation_seconds']} s"
        + "".join(f"; {k} {v}" if i == 0 else f", {k} {v}"
                  for i, (k, v) in enumerate(run["aggregation_changes"].items()))
        + f"), {s['threads']} threads; HTTP "
        + ", ".join(f"{k}: {v}" for k, v in run["http_statuses"].items())
        + f"; {len(run['problems'])} problem(s)",
        "",
        "items: " + ", ".join(f"{k} {v}" for k, v in acc["statuses"].items())
        + (f" ({acc['open_takeable']} open that an active worker could still take)"
           if acc.get("open_takeable") else ""),
        f"accuracy: {_pct(acc['overall'])} over {acc['scored']} items with a result "
        f"(complete, resolved, or in_review with a crowd label); crowd alone "
        f"{_pct(acc['crowd'])} over {acc['crowd_items']} complete items",
        f"labels per item: {_pct(effort['labels_per_item'], 2)} ({effort['work_labels']} work "
        f"labels; {_pct(effort['counted_labels_per_item'], 2)} still counted, "
        f"{effort['discounted_labels']} discounted after drift)",
        f"gold answers spent: {effort['gold_answers']} ("
        + ", ".join(f"{k} {v}" for k, v in effort["gold_by_mode"].items()) + "); hidden "
        f"gold {_pct(effort.get('hidden_gold_share'))} of work-mode answers (gold_rate "
        f"{s['gold_rate']})",
        f"expert reviews: {report['expert_reviews']['resolved']} items resolved by the oracle "
        "expert (" + (", ".join(f"{k} {v}" for k, v in
                                 report["expert_reviews"]["by_reason"].items()) or "none") + ")",
        "",
        f"drifters (hidden-gold answers from onset to retraining or suspension; "
        f"bound 2 x drift_window = {report['drift_bound']}):",
    ]
    for d in report["drifters"]:
        what = _delay_text(d, "never reached its onset", "onset",
                           f"{d['gold_after_onset']} gold after onset in all")
        if d["reached_onset"] and not d["sanctioned"] \
                and d["gold_after_onset"] <= report["drift_bound"]:
            what += " (the project ended before the bound)"
        lines.append(f"  {d['worker']}: {what}; now {d['final_state']}")
    if report.get("slow_drifters"):
        lines.append("slow drifters (hidden-gold answers from crossing min_accuracy to "
                     f"retraining or suspension; bound {report['slow_drift_bound']}):")
    for d in report.get("slow_drifters", []):
        what = _delay_text(d, "never fell below min_accuracy", "crossing",
                           f"crossed at work answer {d['crossing_answer']}")
        lines.append(f"  {d['worker']}: {what}")
    sanctioned = report["reliable_sanctioned"]
    lines.append(f"reliable workers sanctioned: {len(sanctioned)}"
                 + "".join(f"\n  {w['worker']}: {w['to']} ({w['reason']}), now {w['final_state']}"
                           for w in sanctioned))
    lines.append(f"reliable workers suspended: {len(report['reliable_suspended'])}"
                 + (" (" + ", ".join(report["reliable_suspended"]) + ")"
                    if report["reliable_suspended"] else ""))
    lines.append("workers by kind: " + "; ".join(
        f"{k}: {', '.join(f'{s} {n}' for s, n in v['states'].items())}, "
        f"{v['ever_active']} ever active, {v['work_labels']} work labels"
        for k, v in kinds.items()))
    lines.append("")
    lines.extend(render_kinds(report))
    lines.append("")
    lines.append("targets:")
    for name, t in report["targets"].items():
        value = t["value"]
        shown = _pct(value) if isinstance(value, float) else value
        note = ""
        if t.get("uncaught_before_bound"):
            note = (f"; {t['uncaught_before_bound']} still uncaught when the project ended, "
                    "before their bound")
        lines.append(f"  {'met   ' if t['met'] else 'MISSED'} {name}: {shown} "
                     f"({t['target']}{note})")
    for problem in run["problems"]:
        lines.append(f"problem: {problem}")
    return "\n".join(lines)
