"""``crowd aggregate``: labels from an answers CSV, one per item, with no database.

``aggregate_command`` is the whole command; the CLI only parses arguments into
it. Input problems become a one-line message on stderr and exit code 2.
"""
from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator
from typing import TextIO

import numpy as np

from crowd.domain.aggregation import (
    Encoded,
    dawid_skene,
    encode_rows,
    majority_vote,
    one_coin,
)

EXIT_OK = 0
EXIT_BAD_INPUT = 2
ANSWER_COLUMNS = ("item", "worker", "label")
TRUTH_COLUMNS = ("item", "label")


class InputError(Exception):
    """An input the command cannot use; the message is shown as is."""


def _majority(encoded: Encoded) -> np.ndarray:
    return majority_vote(
        encoded.items, encoded.workers, encoded.classes, encoded.n_items, encoded.n_classes
    )


def _dawid_skene(encoded: Encoded) -> np.ndarray:
    return dawid_skene(*_arrays(encoded)).posteriors


def _one_coin(encoded: Encoded) -> np.ndarray:
    if encoded.n_classes < 2:
        return _majority(encoded)
    return one_coin(*_arrays(encoded)).posteriors


def _arrays(encoded: Encoded) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int, int]:
    return (
        encoded.items,
        encoded.workers,
        encoded.classes,
        encoded.n_items,
        encoded.n_workers,
        encoded.n_classes,
    )


METHODS: dict[str, Callable[[Encoded], np.ndarray]] = {
    "ds": _dawid_skene,
    "mv": _majority,
    "one-coin": _one_coin,
}


def aggregate_command(
    answers: str,
    method: str = "ds",
    truth: str | None = None,
    output: str | None = None,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
) -> int:
    """Write ``item,label,confidence`` for each item of ``answers`` (a CSV with
    ``item,worker,label``) to ``output`` or ``stdout``; with ``truth`` (a CSV with
    ``item,label``, used only to score) print ``accuracy: X`` on ``stderr``.
    Returns the exit code: 0, or 2 for bad input."""
    try:
        if method not in METHODS:
            raise InputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        encoded = read_answers(answers)
        expected = read_truth(truth) if truth is not None else None
        posteriors = METHODS[method](encoded)
        best = posteriors.argmax(axis=1)
        labels = [encoded.class_keys[k] for k in best.tolist()]
        confidence = posteriors[np.arange(len(best)), best].tolist()
        rows = zip(encoded.item_keys, labels, (f"{p:.6f}" for p in confidence), strict=True)
        _write(rows, output, stdout)
    except InputError as exc:
        print(f"crowd aggregate: error: {exc}", file=stderr)
        return EXIT_BAD_INPUT
    if expected is not None:
        scored = [label == expected[item]
                  for item, label in zip(encoded.item_keys, labels, strict=True)
                  if item in expected]
        if scored:
            print(f"accuracy: {sum(scored) / len(scored):.4f}", file=stderr)
        else:
            print("accuracy: n/a (no answered item has a truth label)", file=stderr)
    return EXIT_OK


def read_answers(path: str) -> Encoded:
    """Encode an ``item,worker,label`` CSV; raises InputError if unusable."""
    encoded = encode_rows(_rows(path, ANSWER_COLUMNS))
    if not len(encoded.items):
        raise InputError(f"{path} has a header but no answers")
    return encoded


def read_truth(path: str) -> dict[str, str]:
    """Map item to expert label from an ``item,label`` CSV; raises InputError."""
    return {item: label for item, label in _rows(path, TRUTH_COLUMNS)}


def _rows(path: str, columns: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Stream the named columns of a CSV file, checking header and fields."""
    line = 0
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            if not header:
                raise InputError(f"{path} is empty; expected a header {','.join(columns)}")
            missing = [name for name in columns if name not in header]
            if missing:
                raise InputError(
                    f"{path} lacks column(s) {', '.join(missing)}; "
                    f"expected a header {','.join(columns)}"
                )
            where = [header.index(name) for name in columns]
            for row in reader:
                line = reader.line_num
                if not row:
                    continue
                if len(row) < len(header):
                    raise InputError(
                        f"{path} line {line}: {len(row)} fields, header has {len(header)}")
                values = tuple(row[i] for i in where)
                for name, value in zip(columns, values, strict=True):
                    if not value.strip():
                        raise InputError(f"{path} line {line}: empty {name}")
                yield values
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory, not a CSV file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text") from None
    except csv.Error as exc:
        raise InputError(f"{path} line {line + 1}: malformed CSV ({exc})") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _write(rows: Iterator[tuple[str, str, str]], output: str | None, stdout: TextIO) -> None:
    """Write the result CSV to ``output``, or to ``stdout`` when None."""
    if output is None:
        _write_csv(stdout, rows)
        return
    try:
        with open(output, "w", newline="", encoding="utf-8") as handle:
            _write_csv(handle, rows)
    except OSError as exc:
        raise InputError(f"cannot write {output}: {exc.strerror or exc}") from None


def _write_csv(handle: TextIO, rows: Iterator[tuple[str, str, str]]) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(("item", "label", "confidence"))
    writer.writerows(rows)
