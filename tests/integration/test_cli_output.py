"""What the command line writes: a reader that stops early (``crowd aggregate ... | head``)
ends it quietly, and the import progress bar reaches 100% however many rows were skipped."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crowd.cli import EXIT_BROKEN_PIPE, main
from tests.integration.test_cli import cli_env  # noqa: F401  (a fixture)

REPO_ROOT = Path(__file__).resolve().parents[2]


def _answers(path: Path, items: int) -> Path:
    rows = [f"item{i},w{w},{'ab'[(i + w) % 2]}" for i in range(items) for w in range(3)]
    path.write_text("item,worker,label\n" + "\n".join(rows) + "\n")
    return path


def _aggregate(path: Path, read_lines: int) -> tuple[int, str, list[bytes]]:
    """``crowd aggregate`` into a pipe whose reader takes ``read_lines`` lines and leaves."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROWD_")}
    process = subprocess.Popen([sys.executable, "-m", "crowd.cli", "aggregate", str(path),
                                "--method", "mv"], cwd=REPO_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    lines = [process.stdout.readline() for _ in range(read_lines)]
    process.stdout.close()  # as `head` does once it has its lines
    err = process.stderr.read().decode()
    process.stderr.close()
    return process.wait(timeout=120), err, lines


@pytest.mark.parametrize(("items", "read_lines"), [
    (30_000, 2),  # more than a pipe holds: the write itself fails
    (3, 0),  # the reader leaves before anything is written: the last flush fails
])
def test_aggregate_into_a_closed_pipe_ends_quietly(tmp_path: Path, items: int,
                                                   read_lines: int) -> None:
    code, err, lines = _aggregate(_answers(tmp_path / "answers.csv", items), read_lines)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert err == ""
    assert code == EXIT_BROKEN_PIPE
    assert lines[:1] in ([], [b"item,label,confidence\n"])


def test_aggregate_to_a_reader_that_reads_everything_exits_0(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "crowd.cli", "aggregate",
                             str(_answers(tmp_path / "answers.csv", 3)), "--method", "mv"],
                            cwd=REPO_ROOT, capture_output=True, timeout=120, check=False)
    assert result.returncode == 0 and result.stdout.count(b"\n") == 4


@pytest.mark.usefixtures("cli_env")
def test_import_with_skip_invalid_ends_its_progress_bar_at_100(capsys: Any,
                                                               tmp_path: Path,
                                                               make_project: Any) -> None:
    project = make_project(n_items=0)
    path = tmp_path / "items.csv"
    path.write_text("external_id,text,gold_label\nx1,fine,\nx2,bad,zzz\nx3,bad,yyy\n"
                    "x4,bad,www\nx5,fine,a\n")
    assert main(["import", str(project["id"]), str(path), "--skip-invalid"]) == 0
    captured = capsys.readouterr()
    assert "created 2, skipped 0 duplicate(s), 3 invalid row(s)" in captured.out
    assert captured.err.split("\n")[0].endswith("100% 5/5"), captured.err
