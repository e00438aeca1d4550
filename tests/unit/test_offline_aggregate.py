"""The offline ``crowd aggregate`` command on small CSV files."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from crowd.offline import aggregate_command

ANSWERS = """item,worker,label
q1,ann,cat
q1,bob,cat
q1,cid,dog
q2,ann,dog
q2,bob,cat
q3,ann,dog
q3,bob,dog
q3,cid,dog
"""


def run(answers: Path, **options: str | None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = aggregate_command(str(answers), stdout=out, stderr=err, **options)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def answers(tmp_path: Path) -> Path:
    path = tmp_path / "answers.csv"
    path.write_text(ANSWERS, encoding="utf-8")
    return path


def test_majority_vote_writes_one_row_per_item_in_input_order(answers: Path) -> None:
    code, out, err = run(answers, method="mv")
    assert code == 0 and err == ""
    # q2 is a tie: it goes to the first label in sorted order, "cat".
    assert out.splitlines() == [
        "item,label,confidence",
        "q1,cat,0.666667",
        "q2,cat,0.500000",
        "q3,dog,1.000000",
    ]


@pytest.mark.parametrize("method", ["ds", "one-coin"])
def test_model_methods_follow_a_clear_crowd(tmp_path: Path, method: str) -> None:
    path = tmp_path / "answers.csv"
    rows = [f"q{i},{w},{'cat' if i % 2 else 'dog'}" for i in range(20) for w in ("ann", "bob")]
    rows.append("q0,cid,cat")
    path.write_text("item,worker,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code, out, _ = run(path, method=method)
    result = [line.split(",") for line in out.splitlines()[1:]]
    assert code == 0 and [r[0] for r in result] == [f"q{i}" for i in range(20)]
    assert [r[1] for r in result] == ["cat" if i % 2 else "dog" for i in range(20)]
    assert all(0.5 < float(r[2]) <= 1.0 for r in result)


def test_output_goes_to_the_named_file(answers: Path, tmp_path: Path) -> None:
    target = tmp_path / "labels.csv"
    code, out, _ = run(answers, method="mv", output=str(target))
    assert code == 0 and out == ""
    assert target.read_text(encoding="utf-8").startswith("item,label,confidence\nq1,cat,")


def test_truth_prints_accuracy_over_items_that_have_truth(answers: Path, tmp_path: Path) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("item,label\nq1,cat\nq2,dog\nq9,cat\n", encoding="utf-8")
    code, _, err = run(answers, method="mv", truth=str(truth))
    assert code == 0 and err == "accuracy: 0.5000\n"


def test_extra_columns_and_a_byte_order_mark_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text("\ufeffworker,when,label,item\nann,1,cat,q1\n", encoding="utf-8")
    code, out, _ = run(path, method="mv")
    assert code == 0 and out.splitlines()[1] == "q1,cat,1.000000"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"item,worker\nq1,ann\n", "lacks column(s) label"),
        (b"item,worker,label\n", "no answers"),
        (b"item,worker,label\nq1,ann\n", "line 2: 2 fields"),
        (b"item,worker,label\nq1,,cat\n", "line 2: empty worker"),
        (b"item,worker,label\nq1,ann,\xff\xfe\n", "not UTF-8"),
    ],
)
def test_bad_answers_give_one_line_and_exit_code_2(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "answers.csv"
    path.write_bytes(content)
    code, out, err = run(path)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_files_and_unknown_methods_give_exit_code_2(answers: Path, tmp_path: Path) -> None:
    for options, message in [
        ({"answers": tmp_path / "nope.csv"}, "no such file"),
        ({"answers": tmp_path}, "is a directory"),
        ({"answers": answers, "method": "em"}, "unknown method 'em'"),
        ({"answers": answers, "truth": str(tmp_path / "nope.csv")}, "no such file"),
        ({"answers": answers, "output": str(tmp_path / "no" / "out.csv")}, "cannot write"),
    ]:
        path = options.pop("answers")
        code, out, err = run(path, **options)
        assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_truth_without_a_label_column_is_refused(answers: Path, tmp_path: Path) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("item,answer\nq1,cat\n", encoding="utf-8")
    code, out, err = run(answers, truth=str(truth))
    assert code == 2 and out == "" and "lacks column(s) label" in err
