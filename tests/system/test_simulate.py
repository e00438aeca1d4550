"""``crowd simulate`` end to end: a small crowd against a server it starts itself.

12 simulated workers (7 reliable, 3 spammers, 1 adversary, 1 drifter) label
150 items through the real HTTP API of a gunicorn server; the printed report
must have its full structure and figures that make sense together.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from crowd import cli
from crowd.simulate.report import render
from tests.databases import scratch_postgres

WORKERS, ITEMS, QUALIFICATION = 12, 150, 20
DEADLINE = 60.0  # seconds for the whole command, server start and stop included


@pytest.fixture(params=["sqlite", "postgresql"])
def database_option(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """No option (the simulator's own temporary SQLite file), or a fresh PostgreSQL."""
    if request.param == "sqlite":
        yield []
    else:
        for url in scratch_postgres():
            yield ["--database-url", url]


def test_small_simulation_prints_a_complete_and_sane_report(
    database_option: list[str], capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["simulate", "--workers", str(WORKERS), "--items", str(ITEMS), "--seed", "7",
            "--threads", "8", "--aggregate-every", "100", "--drift-onset", "20", "--json",
            *database_option]
    began = time.monotonic()
    code = cli.main(argv)
    seconds = time.monotonic() - began
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert seconds < DEADLINE, f"took {seconds:.1f} s"
    report = json.loads(captured.out)

    for key in ("seed", "server", "settings", "run", "accuracy", "effort", "expert_reviews",
                "drifters", "drift_bound", "reliable_sanctioned", "reliable_suspended",
                "workers_by_kind", "targets"):
        assert key in report, key
    run = report["run"]
    assert run["problems"] == []
    assert not [s for s in run["http_statuses"] if s.startswith("5")], run["http_statuses"]
    assert run["aggregations"] >= 2  # during the run and once at the end

    # Every item ends with a result; the crowd alone is well above chance.
    acc = report["accuracy"]
    assert acc["scored"] == ITEMS
    assert set(acc["statuses"]) <= {"complete", "resolved"}
    assert acc["overall"] >= 0.9 and acc["crowd"] >= 0.9
    assert sum(acc["statuses"].values()) == ITEMS
    assert acc["statuses"].get("resolved", 0) == report["expert_reviews"]["resolved"]

    # Cost: at least redundancy, at most max_redundancy labels per item; every
    # worker answered a full qualification round of gold.
    effort = report["effort"]
    assert 3.0 <= effort["labels_per_item"] <= 7.0
    assert effort["gold_by_mode"]["qualification"] == WORKERS * QUALIFICATION
    assert effort["gold_answers"] == sum(effort["gold_by_mode"].values())

    kinds = report["workers_by_kind"]
    assert {k: v["workers"] for k, v in kinds.items()} == {
        "reliable": 7, "spammer": 3, "adversary": 1, "drifter": 1}
    assert kinds["reliable"]["ever_active"] == 7
    assert report["reliable_suspended"] == []
    (drifter,) = report["drifters"]
    assert drifter["reached_onset"]
    if drifter["sanctioned"]:
        assert 0 <= drifter["delay"] <= drifter["gold_after_onset"]
    assert set(report["targets"]) == {"accuracy", "labels_per_item", "drifters_caught",
                                      "no_reliable_suspended"}

    text = render(report)
    for heading in ("accuracy:", "labels per item:", "gold answers spent:", "expert reviews:",
                    "drifters (", "reliable workers sanctioned:", "reliable workers suspended:",
                    "targets:"):
        assert heading in text, heading


def test_bad_options_are_one_line_errors_with_exit_code_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["simulate", "--reliable", "0.5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("crowd: error: ") and "add up to 1" in err

    assert cli.main(["simulate", "--url", "http://127.0.0.1:9", "--username", "x",
                     "--password", "y"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach http://127.0.0.1:9" in err
