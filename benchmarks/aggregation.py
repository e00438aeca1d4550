"""Dawid-Skene speed and memory: ours against crowd-kit's and the bincount floor.

    python benchmarks/aggregation.py [--quick]

Runs our ``dawid_skene`` and crowd-kit's ``DawidSkene`` for the same fixed
number of EM iterations (N_ITER), taking turns so that both see the same load:
three times each on every shared data set (best of each), then N_REPEATS times
each on a synthetic set of 1,000,000 labels, where the speed-up judged is the
median of the N_REPEATS turns' ratios. On a synthetic set of 10,000,000 labels
it times ours alone, in a child process that does nothing else and reports
its peak memory.

The bincount floor of a data set is one np.bincount pass over its labels with
weights, in item order, each label adding its n_classes numbers into its
item's n_classes sums (n_labels x n_classes entries; index and weights made
beforehand, not timed): the irreducible memory traffic of an EM iteration,
whose E-step must at least bring every label's per-class term to its item. One iteration
of ours is timed as a whole run's seconds (setup included) over its
iterations, and judged against the floor on the 1M and 10M sets.

``--quick`` shrinks the synthetic sizes tenfold and judges no target.
crowd-kit is a benchmark-only extra (``pip install crowd-kit``, or the
project's ``bench`` extra). Exit code 0 when every target passes.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from crowd.domain.aggregation import dawid_skene  # noqa: E402
from crowd.offline import read_answers, read_truth  # noqa: E402

N_ITER = 20
N_REPEATS = 5
TARGET_SPEEDUP = 30.0
TARGET_FLOOR_RATIO = 3.0
TARGET_PEAK_GB = 3.0
GB = 1024**3


@dataclass
class Case:
    """One input: labels as int arrays (n_labels,), sizes, truth (n_items,) or -1."""

    name: str
    items: np.ndarray
    workers: np.ndarray
    classes: np.ndarray
    n_items: int
    n_workers: int
    n_classes: int
    truth: np.ndarray

    @property
    def n_labels(self) -> int:
        return len(self.items)


def datasets_root() -> Path:
    configured = os.environ.get("CROWD_DATASETS_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "datasets"


def shared_cases() -> list[Case]:
    """Every shared data set found, encoded as the CLI encodes it."""
    cases = []
    root = datasets_root()
    for folder in sorted(p for p in root.iterdir() if (p / "answers.csv").is_file()):
        encoded = read_answers(str(folder / "answers.csv"))
        truth = read_truth(str(folder / "truth.csv"))
        rank = {key: i for i, key in enumerate(encoded.class_keys)}
        known = np.array([rank.get(truth.get(k, ""), -1) for k in encoded.item_keys])
        cases.append(Case(folder.name, encoded.items, encoded.workers, encoded.classes,
                          encoded.n_items, encoded.n_workers, encoded.n_classes, known))
    return cases


def synthetic(n_items: int, n_workers: int, n_classes: int, per_item: int, seed: int) -> Case:
    """Labels from workers with random confusions (skill-weighted towards the
    diagonal), ``per_item`` distinct workers per item, items in order."""
    rng = np.random.default_rng(seed)
    skill = rng.uniform(0.3, 0.9, n_workers)[:, None, None]
    noise = rng.dirichlet(np.ones(n_classes), size=(n_workers, n_classes))
    cumulative = ((1 - skill) * noise + skill * np.eye(n_classes)).cumsum(axis=2)
    truth = rng.choice(n_classes, n_items, p=rng.dirichlet(np.full(n_classes, 5.0)))
    items = np.repeat(np.arange(n_items, dtype=np.int32), per_item)
    start = rng.integers(0, n_workers, n_items)[:, None]
    stride = rng.integers(1, n_workers // per_item + 1, n_items)[:, None]
    workers = ((start + stride * np.arange(per_item)) % n_workers).astype(np.int32).ravel()
    classes = np.empty(len(items), dtype=np.int32)
    for lo in range(0, len(items), 1_000_000):
        hi = min(lo + 1_000_000, len(items))
        cum = cumulative[workers[lo:hi], truth[items[lo:hi]], :-1]
        classes[lo:hi] = (rng.random(hi - lo)[:, None] > cum).sum(axis=1)
    size = f"{len(items) // 10**6}M" if len(items) >= 10**6 else f"{len(items) // 1000}k"
    name = f"synthetic-{size}"
    return Case(name, items, workers, classes, n_items, n_workers, n_classes, truth)


def accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    scored = truth >= 0
    return float((predicted[scored] == truth[scored]).mean())


def best_time(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """The fastest of ``repeats`` wall-clock timings, with the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def ours(case: Case) -> Callable[[], Any]:
    """Exactly N_ITER iterations of our Dawid-Skene on ``case``."""
    return lambda: dawid_skene(
        case.items, case.workers, case.classes, case.n_items, case.n_workers, case.n_classes,
        tol=-np.inf, max_iter=N_ITER)


def theirs(case: Case, model: Any) -> Callable[[], Any]:
    """Exactly N_ITER iterations of crowd-kit's DawidSkene on ``case``."""
    import pandas as pd

    frame = pd.DataFrame({"task": case.items, "worker": case.workers, "label": case.classes})
    # tol = -inf keeps crowd-kit from stopping early, so it too runs N_ITER iterations.
    return lambda: model(n_iter=N_ITER, tol=float("-inf")).fit(frame)


def bincount_floor(case: Case, repeats: int = 5) -> float:
    """The bincount floor (see the module's docstring): best of ``repeats``
    weighted np.bincount passes over n_labels x n_classes entries in item order."""
    index = (case.items.astype(np.intp) * case.n_classes)[:, None] + np.arange(case.n_classes)
    index = index.ravel()
    weights = np.random.default_rng(0).random(len(index))
    seconds, _ = best_time(
        lambda: np.bincount(index, weights, minlength=case.n_items * case.n_classes), repeats)
    return seconds


def memory_child(folder: str) -> None:
    """Load the labels saved in ``folder``, run Dawid-Skene, print peak RSS."""
    sizes = np.load(os.path.join(folder, "sizes.npy"))
    arrays = [np.load(os.path.join(folder, f"{name}.npy"))
              for name in ("items", "workers", "classes")]
    start = time.perf_counter()
    result = dawid_skene(*arrays, *sizes.tolist(), tol=-np.inf, max_iter=N_ITER)
    seconds = time.perf_counter() - start
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(rss_kb, seconds, result.iterations)


def peak_memory(case: Case) -> tuple[float, float, int]:
    """(peak RSS bytes, seconds, iterations) of a child process running only Dawid-Skene."""
    with tempfile.TemporaryDirectory() as folder:
        for name in ("items", "workers", "classes"):
            np.save(os.path.join(folder, f"{name}.npy"), getattr(case, name))
        np.save(os.path.join(folder, "sizes.npy"),
                np.array([case.n_items, case.n_workers, case.n_classes]))
        out = subprocess.run([sys.executable, __file__, "--memory-child", folder],
                             check=True, capture_output=True, text=True).stdout.split()
    return int(out[0]) * 1024.0, float(out[1]), int(out[2])


def report_case(case: Case, model: Any, repeats: int, turns: bool = False) -> dict[str, Any]:
    """``repeats`` runs each of ours and crowd-kit's, taking turns. Judged on the
    best of each, or with ``turns`` on the medians, the speed-up then being the
    median of the turns' ratios."""
    runs = [ours(case)] + ([] if model is None else [theirs(case, model)])
    times: list[list[float]] = [[] for _ in runs]
    results: list[Any] = [None] * len(runs)
    for _ in range(repeats):
        for j, run in enumerate(runs):
            start = time.perf_counter()
            results[j] = run()
            times[j].append(time.perf_counter() - start)
    pick = statistics.median if turns else min
    ours_s, result = pick(times[0]), results[0]
    row: dict[str, Any] = {
        "name": case.name, "labels": case.n_labels, "ours_s": ours_s, "floor": bincount_floor(case),
        "ours_acc": accuracy(result.posteriors.argmax(axis=1), case.truth),
        "iter_s": ours_s / result.iterations,
    }
    row["floor_ratio"] = row["iter_s"] / row["floor"]
    print(f"{case.name}: {case.n_labels:,} labels, {case.n_items:,} items, "
          f"{case.n_workers:,} workers, {case.n_classes} classes")
    print(f"  ours       {ours_s:8.3f} s  accuracy {row['ours_acc']:.4f}  "
          f"({result.iterations} iterations)")
    if model is not None:
        fitted = results[1]
        labels = fitted.labels_.reindex(range(case.n_items)).fillna(-1).to_numpy(dtype=int)
        ratios = [t / o for o, t in zip(times[0], times[1], strict=True)]
        row.update(ck_s=pick(times[1]), ck_acc=accuracy(labels, case.truth),
                   speedup=statistics.median(ratios) if turns else pick(times[1]) / ours_s)
        print(f"  crowd-kit  {row['ck_s']:8.3f} s  accuracy {row['ck_acc']:.4f}  "
              f"({len(fitted.loss_history_)} iterations)  -> ours is {row['speedup']:.1f}x faster")
        if turns:
            print("  turns (ours s, crowd-kit s, ratio): " + ", ".join(
                f"{o:.3f} {t:.3f} {t / o:.1f}x" for o, t in zip(times[0], times[1], strict=True)))
    print(f"  per iteration {row['iter_s'] * 1e3:.2f} ms; bincount floor "
          f"{row['floor'] * 1e3:.2f} ms; ratio {row['floor_ratio']:.2f}x")
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="synthetic sizes / 10, no targets")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child)
        return 0
    scale = 10 if args.quick else 1
    try:
        from crowdkit.aggregation import DawidSkene

        model: Any = DawidSkene
    except ImportError:
        model = None
        print("crowd-kit is not installed, so there is nothing to compare against: "
              "pip install crowd-kit (the project's 'bench' extra). Timing ours alone.\n")
    print(f"{N_ITER} EM iterations each, setup included, ours on one thread, ours and "
          f"crowd-kit's taking turns; shared sets: best of 3 each; the 1M set: medians of "
          f"{N_REPEATS}; "
          f"numpy {np.__version__}; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores\n")
    big = synthetic(100_000 // scale, 2_000 // scale, 5, 10, seed=1)
    shared = shared_cases() if datasets_root().is_dir() else []
    # Warm up imports and first-touch page faults before timing anything.
    ours(shared[0] if shared else big)()
    rows = [report_case(case, model, repeats=3) for case in shared]
    rows.append(report_case(big, model, N_REPEATS, turns=True))
    huge = synthetic(1_000_000 // scale, 20_000 // scale, 5, 10, seed=2)
    peak, huge_s, huge_it = peak_memory(huge)
    huge_row = {"name": huge.name, "labels": huge.n_labels, "iter_s": huge_s / huge_it,
                "floor": bincount_floor(huge, repeats=3)}
    huge_row["floor_ratio"] = huge_row["iter_s"] / huge_row["floor"]
    print(f"{huge.name}: {huge.n_labels:,} labels, {huge.n_items:,} items, "
          f"{huge.n_workers:,} workers, {huge.n_classes} classes; ours alone, in a child process")
    print(f"  peak RSS {peak / GB:.2f} GB (input arrays {3 * huge.items.nbytes / GB:.2f} GB); "
          f"{huge_s:.2f} s for {huge_it} iterations")
    print(f"  per iteration {huge_row['iter_s'] * 1e3:.1f} ms; bincount floor "
          f"{huge_row['floor'] * 1e3:.1f} ms; ratio {huge_row['floor_ratio']:.2f}x\n")
    print_table(rows)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return judge(rows[-1], huge_row, peak, args.quick)


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'data set':<15}{'labels':>11}{'acc ours':>10}{'acc ck':>8}{'ours s':>9}"
          f"{'ck s':>9}{'speed-up':>10}{'ms/iter':>9}{'floor ms':>10}{'ratio':>7}")
    for r in rows:
        ck_acc = f"{r['ck_acc']:.4f}" if "ck_acc" in r else "n/a"
        ck_s = f"{r['ck_s']:.3f}" if "ck_s" in r else "n/a"
        speedup = f"{r['speedup']:.1f}x" if "speedup" in r else "n/a"
        print(f"{r['name']:<15}{r['labels']:>11,}{r['ours_acc']:>10.4f}{ck_acc:>8}"
              f"{r['ours_s']:>9.3f}{ck_s:>9}{speedup:>10}{r['iter_s'] * 1e3:>9.2f}"
              f"{r['floor'] * 1e3:>10.3f}{r['floor_ratio']:>6.1f}x")


def judge(big: dict[str, Any], huge: dict[str, Any], peak: float, quick: bool) -> int:
    """Print PASS/FAIL for each target; the exit code."""
    checks = [
        (f">= {TARGET_SPEEDUP:.0f}x faster than crowd-kit on {big['name']} "
         f"(median of {N_REPEATS} turns)",
         f"{big['speedup']:.1f}x" if "speedup" in big else "not measured",
         "speedup" in big and big["speedup"] >= TARGET_SPEEDUP),
        *((f"one iteration within {TARGET_FLOOR_RATIO:.0f}x the bincount floor on {r['name']}",
           f"{r['floor_ratio']:.2f}x", r["floor_ratio"] <= TARGET_FLOOR_RATIO)
          for r in (big, huge)),
        (f"peak RSS under {TARGET_PEAK_GB:.0f} GB for {huge['labels']:,} labels",
         f"{peak / GB:.2f} GB", peak < TARGET_PEAK_GB * GB),
    ]
    print("\ntargets" + (" (quick run: sizes reduced, not judged)" if quick else ""))
    for label, value, ok in checks:
        verdict = "n/a" if quick else ("PASS" if ok else "FAIL")
        print(f"  {verdict:<5}{label}: {value}")
    return 0 if quick or all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
