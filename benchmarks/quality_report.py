"""The quality report at full size: the old implementation against the grouped one.

    python benchmarks/quality_report.py [--database-url URL] [--project-id ID]

Computes the quality report of a project (default: the first one) of a built
world, by default the one ``benchmarks/pages.py --keep`` leaves in
``crowd_bench_pages`` (1,000,000 items, 5,000,000 labels, 2,000 workers), twice,
each in a process of its own: with the implementation that loaded every counted
label as a row (``_reference_report`` of
``tests/integration/test_quality_report_scale.py``) and with today's
``crowd.services.quality.quality_report``. Prints each one's wall time and peak
resident memory (``ru_maxrss`` of its process, and of a process that only
connected, for the baseline), the ratios, and whether the two reports are equal.

Never writes: every session runs in a read-only transaction
(``default_transaction_read_only`` on PostgreSQL) that is rolled back.
"""
from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from crowd.persistence import Project  # noqa: E402
from crowd.services.quality import quality_report  # noqa: E402
from tests.integration.test_quality_report_scale import _reference_report  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/crowd_bench_pages"
IMPLEMENTATIONS = {"baseline": None, "old": _reference_report, "new": quality_report}


def _session(url: str) -> Session:
    options = ({"options": "-c default_transaction_read_only=on"}
               if url.startswith("postgresql") else {})
    return Session(create_engine(url, connect_args=options))


def _measure(url: str, project_id: int, name: str, out: Any) -> None:
    """In a child process: one report, its seconds and the process's peak RSS (MiB)."""
    session = _session(url)
    try:
        session.execute(select(Project.id).where(Project.id == project_id)).one()
        started = time.perf_counter()
        implementation = IMPLEMENTATIONS[name]
        report = implementation(session, project_id) if implementation else None
        seconds = time.perf_counter() - started
    finally:
        session.rollback()
        session.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.send((seconds, peak, report))


def run(url: str, project_id: int, name: str) -> tuple[float, float, Any]:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_measure, args=(url, project_id, name, send))
    child.start()
    result = receive.recv()
    child.join()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--project-id", type=int, help="default: the first project")
    args = parser.parse_args()
    session = _session(args.database_url)
    project_id = args.project_id or session.scalar(select(func.min(Project.id)))
    session.rollback()
    session.close()
    figures = {}
    for name in IMPLEMENTATIONS:
        figures[name] = run(args.database_url, project_id, name)
        seconds, peak, report = figures[name]
        labels = f", {report['labels']:,} labels" if report else ""
        print(f"{name:>8}: {seconds:8.2f} s, peak RSS {peak:8.1f} MiB{labels}", flush=True)
    (old_s, old_rss, old), (new_s, new_rss, new) = figures["old"], figures["new"]
    base = figures["baseline"][1]
    print(f"   ratio: {old_s / new_s:.1f}x faster; peak RSS {old_rss / new_rss:.1f}x smaller "
          f"({(old_rss - base) / max(new_rss - base, 1.0):.1f}x above the baseline's "
          f"{base:.0f} MiB)")
    print("reports equal" if old == new else "REPORTS DIFFER")
    return 0 if old == new else 1


if __name__ == "__main__":
    sys.exit(main())
