"""One simulated worker's turn at the API: ``next``, decide, ``answer``, learn.

The worker's ``Mind`` sees the offer as a client does (``kinds.Seen``); the
only thing the simulator adds is the item's class as a person would perceive it
from the data (looked up by the data's ``ref``). Whether a work offer is gold is
never passed on: a sniffer's guess is stored beside the item's reference, and
the report scores it afterwards.
"""
from __future__ import annotations

import time
from typing import Any, Protocol

from crowd.simulate.client import ApiError
from crowd.simulate.kinds import Seen
from crowd.simulate.pool import Coordinator, SimWorker

BURST = 5  # answers a worker gives each time a thread picks them up


class ProjectView(Protocol):
    id: int
    labels: list[str]
    truth: dict[str, int]


def seen_of(offer: dict[str, Any], latency: float) -> Seen:
    """What a client sees of an offer."""
    item = offer["item"]
    return Seen(item_id=item["id"], data=item.get("data"), mode=offer["mode"],
                labels=tuple(offer.get("labels") or ()), latency=latency)


def burst(worker: SimWorker, project: ProjectView, coordinator: Coordinator) -> str:
    """Up to ``BURST`` next/answer rounds: ``worked``, ``idle`` or ``retired``."""
    assert worker.api is not None
    mind = worker.mind
    for _ in range(BURST):
        began = time.perf_counter()
        status, offer = worker.api.call("POST", f"/projects/{project.id}/next")
        latency = time.perf_counter() - began
        if status == 204:
            return "idle"
        if status == 403 and isinstance(offer, dict) and \
                offer.get("error", {}).get("code") == "suspended":
            worker.retired = "suspended"
            return "retired"
        if status != 200:
            raise ApiError("POST", f"/projects/{project.id}/next", status, offer)
        seen = seen_of(offer, latency)
        ref = offer["item"]["data"]["ref"]
        degraded = mind.is_degraded(worker.work_answers)
        choice = mind.choose(seen, project.truth[ref], worker.work_answers, worker.rng)
        path = f"/assignments/{offer['assignment_id']}/answer"
        status, body = worker.api.call("POST", path, {"label": project.labels[choice.given],
                                                      "duration_ms": choice.duration_ms})
        if status == 410:  # lease released meanwhile (sent to retraining): ask again
            continue
        if status != 200:
            raise ApiError("POST", path, status, body)
        mind.learn(seen, choice.given, body if isinstance(body, dict) else {})
        if degraded and worker.onset_ref is None:
            worker.onset_ref = ref
        worker.answers += 1
        worker.modes[offer["mode"]] += 1
        if offer["mode"] == "work":
            worker.work_answers += 1
            if choice.guess_gold is not None:
                worker.guesses.append((ref, choice.guess_gold))
        coordinator.answered()
    return "worked"
