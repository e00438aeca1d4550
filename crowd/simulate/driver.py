"""Driving the HTTP API with simulated workers: setup, the worker threads, the
periodic aggregation and oracle expert, and collecting what the server recorded."""
from __future__ import annotations

import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable

import numpy as np

from crowd.simulate.acting import burst
from crowd.simulate.client import Api, ApiError
from crowd.simulate.kinds import CrowdConfig, make_minds
from crowd.simulate.options import Settings
from crowd.simulate.pool import Coordinator, SimWorker
from crowd.simulate.records import Collected, Project
from crowd.simulate.workers import Dataset, make_dataset

MAX_WORKER_ERRORS = 5  # server errors one worker shrugs off before giving up
IMPORT_CHUNK = 1000
REVIEW_PAGE = 500
MAX_PHASES = 10  # rounds of "work until idle, aggregate, review" at the end


class SimulationError(Exception):
    """The simulation could not run (a one-line message for the operator)."""


class Simulation:
    """One simulated crowd against one server at ``base_url``."""

    def __init__(self, settings: Settings, base_url: str, username: str, password: str,
                 log: Callable[[str], None]) -> None:
        self.settings, self.base_url, self.log = settings, base_url, log
        self.run_id = secrets.token_hex(3)
        seeds = np.random.SeedSequence(settings.seed)
        crowd_seed, data_seed, *worker_seeds = seeds.spawn(2 + settings.workers)
        config = CrowdConfig(
            settings.classes, onset=settings.drift_onset,
            reliable_accuracy=settings.reliable_accuracy, class_shares=settings.class_shares,
            group_size=settings.collusion_group, slow_after=settings.slow_drift_after,
            slow_over=settings.slow_drift_over)
        minds = make_minds(settings.workers, settings.shares, config,
                           np.random.default_rng(crowd_seed))
        self.dataset: Dataset = make_dataset(settings.items, settings.gold_items,
                                             settings.classes, np.random.default_rng(data_seed),
                                             settings.class_shares)
        counters: Counter[str] = Counter()
        self.workers = []
        for i, (mind, seed) in enumerate(zip(minds, worker_seeds, strict=True)):
            counters[mind.kind] += 1
            name = f"sim-{self.run_id}-{mind.kind.replace('_', '-')}-{counters[mind.kind]:02d}"
            self.workers.append(SimWorker(i, mind, name, secrets.token_urlsafe(12),
                                          np.random.default_rng(seed)))
        self.manager = self._login(username, password, ("manager", "admin"))
        self.expert: Api | None = None
        self.project: Project | None = None
        self.reviews: Counter[str] = Counter()
        self.setup_seconds = 0.0
        self.aggregations = 0
        self.aggregation_seconds = 0.0
        self.aggregation_changes: Counter[str] = Counter()
        self.problems: list[str] = []
        self._maintenance_lock = threading.Lock()

    # -- setup -----------------------------------------------------------------

    def _login(self, username: str, password: str, roles: tuple[str, ...]) -> Api:
        api = Api(self.base_url)
        try:
            status, body = api.call("POST", "/tokens", {"username": username, "password": password})
            if status != 201:
                raise SimulationError(f"cannot log in as {username!r}: {status}")
            if body["user"]["role"] not in roles:
                raise SimulationError(f"{username!r} is a {body['user']['role']}, "
                                      f"not a {' or '.join(roles)}")
        except OSError as exc:
            api.close()
            raise SimulationError(f"cannot reach {self.base_url}: {exc}") from None
        except SimulationError:
            api.close()
            raise
        api.token = body["token"]
        return api

    def setup(self) -> Project:
        """Create the project, import the items, and make and log in every account."""
        began = time.monotonic()
        s = self.settings
        labels = [f"class{k + 1}" for k in range(s.classes)]
        body = {"name": f"crowd simulate {self.run_id}", "labels": labels,
                "guidelines": "simulated crowd", **s.project_settings()}
        created = self.manager.expect("POST", "/projects", body, ok=(201,))
        refs = [f"s{self.run_id}-{i:05d}" for i in range(len(self.dataset.truth))]
        truth = {ref: int(t) for ref, t in zip(refs, self.dataset.truth, strict=True)}
        gold = {ref for ref, g in zip(refs, self.dataset.gold, strict=True) if g}
        project = Project(created["id"], labels, truth, gold)
        rows = [{"external_id": ref, "data": {"ref": ref, "text": f"simulated item {i}"},
                 **({"gold_label": labels[truth[ref]]} if ref in gold else {})}
                for i, ref in enumerate(refs)]
        if s.gold_import == "separate":  # a batch of its own, after the work items
            rows = [r for r in rows if "gold_label" not in r] + \
                [r for r in rows if "gold_label" in r]
        for start in range(0, len(rows), IMPORT_CHUNK):
            chunk = rows[start:start + IMPORT_CHUNK]
            report = self.manager.expect("POST", f"/projects/{project.id}/items", chunk, ok=(201,))
            if report["created"] != len(chunk):
                raise SimulationError(f"item import created {report['created']} of "
                                      f"{len(chunk)}: {report['errors'][:3]}")
        expert_name, expert_password = f"sim-{self.run_id}-expert", secrets.token_urlsafe(12)
        self.manager.expect("POST", "/users", {"username": expert_name,
                                               "password": expert_password, "role": "expert"})
        self.manager.expect("POST", f"/projects/{project.id}/members",
                            {"username": expert_name}, ok=(201,))
        self.expert = self._login(expert_name, expert_password, ("expert",))
        self._in_threads(self._enrol, list(self.workers))
        self.project = project
        self.setup_seconds = time.monotonic() - began
        return project

    def _enrol(self, worker: SimWorker) -> None:
        manager = Api(self.base_url, self.manager.token)
        try:
            manager.expect("POST", "/users", {"username": worker.username,
                                              "password": worker.password, "role": "worker"})
        finally:
            manager.close()
        worker.api = self._login(worker.username, worker.password, ("worker",))

    def _in_threads(self, task: Callable[[SimWorker], None], workers: list[SimWorker]) -> None:
        errors: list[str] = []
        queue = deque(workers)
        lock = threading.Lock()

        def loop() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    worker = queue.popleft()
                try:
                    task(worker)
                except (ApiError, SimulationError, OSError) as exc:
                    with lock:
                        errors.append(f"{worker.username}: {exc}")

        threads = [threading.Thread(target=loop, daemon=True)
                   for _ in range(min(self.settings.threads, len(workers)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise SimulationError(f"{len(errors)} account(s) failed, first: {errors[0]}")

    # -- the run ---------------------------------------------------------------

    def run(self) -> Collected:
        """Work until nothing is left; aggregate and review along the way and at the end."""
        assert self.project is not None
        started = time.monotonic()
        total = 0
        for _ in range(MAX_PHASES):
            done = self._phase()
            total += done
            self._maintain_final()
            progress = self.manager.expect("GET", f"/projects/{self.project.id}")["progress"]
            self.log(f"phase: {done} answers; open {progress['open']}, complete "
                     f"{progress['complete']}, resolved {progress['resolved']}")
            if progress["open"] == 0 and progress["in_review"] == 0:
                break
            if done == 0:
                break
        seconds = time.monotonic() - started
        return self._collect(total, seconds)

    def _phase(self) -> int:
        """Run every live worker until all are idle; returns the answers given."""
        live = [w for w in self.workers if w.retired is None]
        coordinator = Coordinator(live)
        stop = threading.Event()
        maintainer = threading.Thread(target=self._maintain_every,
                                      args=(coordinator, stop), daemon=True)
        maintainer.start()
        threads = [threading.Thread(target=self._thread, args=(coordinator,), daemon=True)
                   for _ in range(min(self.settings.threads, max(1, len(live))))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stop.set()
        maintainer.join()
        return coordinator.answers

    def _thread(self, coordinator: Coordinator) -> None:
        while (worker := coordinator.take()) is not None:
            try:
                outcome = self._burst(worker, coordinator)
            except Exception as exc:  # noqa: BLE001 - reported, and the others go on
                worker.problems.append(f"{type(exc).__name__}: {exc}")
                # A server error is retried (next returns the lease still held,
                # and a failed answer stored nothing); anything else retires them.
                server_error = isinstance(exc, ApiError) and exc.status >= 500
                if server_error and len(worker.problems) < MAX_WORKER_ERRORS:
                    outcome = "worked"
                else:
                    worker.retired, outcome = f"error: {exc}", "retired"
            coordinator.give_back(worker, outcome)

    def _burst(self, worker: SimWorker, coordinator: Coordinator) -> str:
        assert self.project is not None
        return burst(worker, self.project, coordinator)

    def _maintain_every(self, coordinator: Coordinator, stop: threading.Event) -> None:
        every = self.settings.aggregate_every
        target = every
        while coordinator.wait_for(target, stop):
            try:
                self._maintain()
            except Exception as exc:  # noqa: BLE001 - reported; the next round tries again
                self.problems.append(f"aggregation or review failed: {type(exc).__name__}: {exc}")
            coordinator.moved()
            target = coordinator.answers + every

    def _maintain_final(self, attempts: int = 3) -> None:
        """``_maintain``, tried again after a server error (each one is reported)."""
        for attempt in range(1, attempts + 1):
            try:
                self._maintain()
                return
            except ApiError as exc:
                if exc.status < 500 or attempt == attempts:
                    raise
                self.problems.append(f"aggregation or review failed: ApiError: {exc}")

    def _maintain(self) -> None:
        """Aggregate, then let the oracle expert resolve every item in review."""
        assert self.project is not None and self.expert is not None
        with self._maintenance_lock:
            began = time.monotonic()
            run = self.manager.expect("POST", f"/projects/{self.project.id}/aggregate")
            self.aggregation_seconds += time.monotonic() - began
            self.aggregations += 1
            self.aggregation_changes.update(run.get("changes") or {})
            while True:
                queue = self.expert.expect(
                    "GET", f"/reviews?project={self.project.id}&limit={REVIEW_PAGE}")["items"]
                resolved = 0
                for entry in queue:
                    truth = self.project.truth[entry["item"]["data"]["ref"]]
                    status, body = self.expert.call(
                        "POST", f"/reviews/{entry['item']['id']}",
                        {"label": self.project.labels[truth], "note": "simulated oracle expert"})
                    if status == 200:
                        self.reviews[entry["reason"] or "unknown"] += 1
                        resolved += 1
                    elif status != 409:  # 409: no longer in review; nothing to do
                        raise ApiError("POST", f"/reviews/{entry['item']['id']}", status, body)
                if not resolved:
                    return

    # -- reading back ----------------------------------------------------------

    def _collect(self, answers: int, seconds: float) -> Collected:
        assert self.project is not None
        pid = self.project.id
        histories = {}
        for worker in self.workers:
            if worker.api is not None:
                status, me = worker.api.call("GET", f"/projects/{pid}/me")
                ok = status == 200 and isinstance(me, dict)
                histories[worker.username] = me.get("history", []) if ok else []
        statuses: Counter[int] = Counter(self.manager.statuses)
        if self.expert is not None:
            statuses.update(self.expert.statuses)
        reconnects = 0
        for worker in self.workers:
            if worker.api is not None:
                statuses.update(worker.api.statuses)
                reconnects += worker.api.reconnects
        problems = self.problems + [f"{w.username}: {p}" for w in self.workers for p in w.problems]
        return Collected(
            project=self.manager.expect("GET", f"/projects/{pid}"),
            results=self.manager.jsonl(f"/projects/{pid}/results?format=jsonl"),
            labels=self.manager.jsonl(f"/projects/{pid}/labels?format=jsonl"),
            workers=self.manager.expect("GET", f"/projects/{pid}/workers")["workers"],
            histories=histories, reviews=self.reviews, aggregations=self.aggregations,
            aggregation_seconds=self.aggregation_seconds,
            aggregation_changes=self.aggregation_changes,
            answers=answers, seconds=seconds, statuses=statuses, reconnects=reconnects,
            problems=problems,
        )

    def close(self) -> None:
        for api in [self.manager, self.expert, *(w.api for w in self.workers)]:
            if api is not None:
                api.close()
