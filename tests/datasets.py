"""Where the shared real-data sets live, for tests that score against them.

The data sets sit beside the repository (``../shared/datasets``) and are never
copied into it. ``CROWD_DATASETS_DIR`` points elsewhere. A missing set skips
the test locally but fails it under CI, so CI cannot pass by skipping.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
_TRUE = {"1", "true", "yes", "on"}


def datasets_root() -> Path:
    """The folder holding one sub-folder per data set."""
    configured = os.environ.get("CROWD_DATASETS_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "datasets"


def require_dataset(name: str) -> Path:
    """The folder of data set ``name``; skips the test if absent (fails under CI)."""
    folder = datasets_root() / name
    if not (folder / "answers.csv").is_file() or not (folder / "truth.csv").is_file():
        message = f"shared datasets not found at {folder}; set CROWD_DATASETS_DIR"
        if os.environ.get("CI", "").strip().lower() in _TRUE:
            pytest.fail(message)
        pytest.skip(message)
    return folder
