"""``crowd simulate`` end to end: a small crowd against a server it starts itself.

12 simulated workers (7 reliable, 3 spammers, 1 adversary, 1 drifter) label
150 items through the real HTTP API of a gunicorn server; the printed report
must have its full structure and figures that make sense together.

The run is threaded, so its outcome varies from run to run. The one statistical
bound, accuracy of at least 0.7 over 150 items, fails a working server with
probability below 1 in 10,000,000: even if every item were wrong with
probability 0.15 (runs of this test score 0.97-1.0, i.e. 0-5 wrong items), 45
or more wrong items is a 5-sigma tail (binomial: 3e-7). How fast the crowd's
bad workers are caught is the simulator's own business (``crowd simulate``, run
at full size by hand); a test here would be a coin toss on a small crowd.
"""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from crowd import cli
from crowd.domain.qualification import SequentialRule
from crowd.simulate.report import render
from tests.databases import scratch_postgres

WORKERS, ITEMS, QUALIFICATION = 12, 150, 20
MIN_ACCURACY = 0.7


@pytest.fixture(params=["sqlite", "postgresql"])
def database_option(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """No option (the simulator's own temporary SQLite file), or a fresh PostgreSQL."""
    if request.param == "sqlite":
        yield []
    else:
        for url in scratch_postgres():
            yield ["--database-url", url]


@pytest.mark.slow
def test_small_simulation_prints_a_complete_and_sane_report(
    database_option: list[str], capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["simulate", "--workers", str(WORKERS), "--items", str(ITEMS), "--seed", "7",
            "--threads", "8", "--aggregate-every", "100", "--drift-onset", "20", "--json",
            *database_option]
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)

    for key in ("seed", "server", "settings", "run", "accuracy", "effort", "expert_reviews",
                "drifters", "drift_bound", "reliable_sanctioned", "reliable_suspended",
                "workers_by_kind", "targets"):
        assert key in report, key
    run = report["run"]
    assert run["problems"] == []
    assert not [s for s in run["http_statuses"] if s.startswith("5")], run["http_statuses"]
    assert run["aggregations"] >= 2  # during the run and once at the end

    # Every item ends with a result or stranded: open because every worker still
    # active has labelled it (a discounted label included), so only a new worker or
    # an expert could finish it. With 12 workers, how many that strands depends on
    # how many sanctions the run saw, which depends on how loaded the machine is
    # (the drift job runs every 5 s of wall time); that the run left nothing open
    # that an active worker could take does not. The crowd alone is well above
    # chance.
    acc = report["accuracy"]
    stranded = acc["statuses"].get("open", 0)
    assert acc["open_takeable"] == 0, acc
    assert acc["scored"] + stranded == ITEMS, acc["statuses"]
    assert set(acc["statuses"]) <= {"complete", "resolved", "open"}
    print(f"accuracy {acc['overall']:.3f}, crowd alone {acc['crowd']:.3f}")
    assert acc["overall"] >= MIN_ACCURACY and acc["crowd"] >= MIN_ACCURACY
    assert sum(acc["statuses"].values()) == ITEMS
    assert acc["statuses"].get("resolved", 0) == report["expert_reviews"]["resolved"]

    # Cost: at least redundancy, at most max_redundancy labels per item; every
    # worker's qualification round was decided, so it took between the fewest
    # answers the sequential rule can fail on and its cap (3 x QUALIFICATION).
    effort = report["effort"]
    assert 3.0 <= effort["labels_per_item"] <= 7.0
    rule = SequentialRule.for_round(QUALIFICATION, report["settings"]["qualification_accuracy"])
    fewest = min(n for n in range(1, rule.at_most + 1) if rule.decide(n, 0) == (False, "lower"))
    assert WORKERS * fewest <= effort["gold_by_mode"]["qualification"] <= WORKERS * rule.at_most
    assert effort["gold_answers"] == sum(effort["gold_by_mode"].values())

    kinds = report["workers_by_kind"]
    assert {k: v["workers"] for k, v in kinds.items()} == {
        "reliable": 7, "spammer": 3, "adversary": 1, "drifter": 1}
    assert isinstance(report["reliable_suspended"], list)
    (drifter,) = report["drifters"]
    assert drifter["reached_onset"]
    if drifter["sanctioned"]:
        assert 0 <= drifter["delay"] <= drifter["gold_after_onset"]
    assert set(report["targets"]) == {"accuracy", "labels_per_item", "drifters_caught",
                                      "no_reliable_suspended"}

    # The per-kind measures (added with the bad-worker kinds): none of them here.
    assert report["collusion"] == []
    assert report["accuracy_by_class"]["rarest"] in {"class1", "class2", "class3", "class4"}
    assert sum(kind["answers"] for kind in kinds.values()) == run["answers"]
    for kind in kinds.values():
        assert kind["labels_left_wrong"] <= kind["labels_left"] <= kind["work_labels"]
        assert kind["sanctioned"] == sum(p["sanctioned"] for p in kind["first_sanctions"])

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


@pytest.mark.slow
def test_every_bad_kind_runs_and_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    """One of each new bad kind (two colluders), on skewed classes: the run is clean
    and the report has every kind's figures, the sniffers' guessing and the group."""
    argv = ["simulate", "--workers", "10", "--items", "120", "--seed", "3", "--threads", "8",
            "--aggregate-every", "100", "--reliable", "0.2", "--spammers", "0",
            "--adversaries", "0", "--drifters", "0", "--lazy", "0.1", "--colluders", "0.2",
            "--collusion-group", "2", "--sniffers-id", "0.1", "--sniffers-content", "0.1",
            "--sniffers-timing", "0.1", "--slow-drifters", "0.1", "--speed-bots", "0.1",
            "--class-shares", "55,25,15,5", "--reliable-accuracy", "0.8-0.95",
            "--slow-drift-after", "5", "--slow-drift-over", "10", "--json"]
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert report["run"]["problems"] == []
    kinds = report["workers_by_kind"]
    assert {k: v["workers"] for k, v in kinds.items()} == {
        "reliable": 2, "lazy": 1, "colluder": 2, "sniffer_id": 1, "sniffer_content": 1,
        "sniffer_timing": 1, "slow_drifter": 1, "speed_bot": 1}
    for name in ("sniffer_id", "sniffer_content", "sniffer_timing"):
        sniff = kinds[name]["sniffing"]
        assert sniff["true_positives"] <= sniff["guessed_gold"] <= sniff["offers"]
    (slow,) = report["slow_drifters"]  # measured from its crossing of min_accuracy
    assert report["slow_drift_bound"] == 15
    if slow["sanctioned"]:
        assert 0 <= slow["delay"] <= slow["gold_after_onset"]
    (group,) = report["collusion"]
    assert len(group["members"]) == 2 and group["target"] != group["pushed"]
    assert report["settings"]["class_shares"] == [0.55, 0.25, 0.15, 0.05]
    text = render(report)
    for heading in ("accuracy by class:", "guessing gold:", "colluding group 0",
                    "slow drifters ("):
        assert heading in text, heading
