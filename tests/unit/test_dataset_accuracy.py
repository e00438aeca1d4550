"""Dawid-Skene against expert truth on the shared real crowdsourcing data sets."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crowd.domain.aggregation import DSResult, Encoded, dawid_skene, one_coin
from crowd.offline import aggregate_command, read_answers, read_truth
from tests.datasets import datasets_root, require_dataset

# crowd-kit 1.4.2 DawidSkene accuracies on these files, as published in the
# shared datasets README (a reference measured once, so hard-coded here).
CROWDKIT_DAWID_SKENE = {"rte": 0.9275, "temp": 0.9416, "dog": 0.8426, "web": 0.8292}
MARGIN = 0.005
ROUNDING = 1e-12


def load(name: str) -> tuple[Encoded, np.ndarray]:
    """The answers of data set ``name`` and each item's true class (-1 if none)."""
    folder = require_dataset(name)
    encoded = read_answers(str(folder / "answers.csv"))
    truth = read_truth(str(folder / "truth.csv"))
    rank = {key: i for i, key in enumerate(encoded.class_keys)}
    known = np.array([rank.get(truth.get(item, ""), -1) for item in encoded.item_keys])
    return encoded, known


def accuracy(posteriors: np.ndarray, known: np.ndarray) -> float:
    scored = known >= 0
    return float((posteriors.argmax(axis=1)[scored] == known[scored]).mean())


def fit(encoded: Encoded, model: Callable[..., DSResult] = dawid_skene, **options: Any) -> DSResult:
    return model(encoded.items, encoded.workers, encoded.classes, encoded.n_items,
                 encoded.n_workers, encoded.n_classes, **options)


def test_every_shared_dataset_has_a_reference_figure() -> None:
    require_dataset("rte")
    found = {p.name for p in datasets_root().iterdir() if (p / "answers.csv").is_file()}
    assert found <= set(CROWDKIT_DAWID_SKENE), found - set(CROWDKIT_DAWID_SKENE)


@pytest.mark.parametrize("name", sorted(CROWDKIT_DAWID_SKENE))
def test_dawid_skene_is_at_least_as_accurate_as_crowd_kit(name: str) -> None:
    encoded, known = load(name)
    result = fit(encoded)
    assert result.converged
    assert accuracy(result.posteriors, known) >= CROWDKIT_DAWID_SKENE[name] - MARGIN


@pytest.mark.parametrize("name", sorted(CROWDKIT_DAWID_SKENE))
def test_aggregate_command_reaches_the_same_accuracy(name: str, tmp_path: Path) -> None:
    folder = require_dataset(name)
    out, err = io.StringIO(), io.StringIO()
    code = aggregate_command(str(folder / "answers.csv"), "ds", str(folder / "truth.csv"),
                             stdout=out, stderr=err)
    assert code == 0 and err.getvalue().startswith("accuracy: ")
    assert float(err.getvalue().split()[1]) >= CROWDKIT_DAWID_SKENE[name] - MARGIN
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    encoded, _ = load(name)
    assert [row["item"] for row in rows] == encoded.item_keys


@pytest.mark.parametrize("name", sorted(CROWDKIT_DAWID_SKENE))
@pytest.mark.parametrize("smoothing", [1e-9, 1.0])
def test_log_likelihood_never_decreases_on_real_data(name: str, smoothing: float) -> None:
    encoded, _ = load(name)
    for model in (dawid_skene, one_coin):
        result = fit(encoded, model, smoothing=smoothing, tol=-np.inf, max_iter=100)
        assert np.diff(result.log_likelihood).min() >= -ROUNDING


def test_clamping_gold_raises_accuracy_on_the_other_items() -> None:
    encoded, known = load("web")
    gold = np.where(np.arange(encoded.n_items) % 5 == 0, known, -1)
    rest = known.copy()
    rest[gold >= 0] = -1
    free = accuracy(fit(encoded).posteriors, rest)
    clamped = fit(encoded, known=gold)
    assert accuracy(clamped.posteriors, rest) > free
    assert np.all(clamped.posteriors[gold >= 0].max(axis=1) == 1.0)
