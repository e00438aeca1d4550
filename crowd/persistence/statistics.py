"""Planner statistics: ANALYZE of crowd's tables after a bulk change, or once stale.

Nothing else keeps them fresh: SQLite never analyses on its own, and PostgreSQL's
autovacuum may be off. A table never analysed, or analysed when it was a tenth of its
size, gets plans chosen for a small table: a 1,000-id duplicate check of an import
reading the whole project, the work pick of `next` planned for a queue of one row.

Table names come from crowd's metadata only. Nothing here commits: on PostgreSQL
ANALYZE holds a SHARE UPDATE EXCLUSIVE lock on its table until the caller commits
(it blocks no read or write, only another ANALYZE, VACUUM or schema change), so
callers analyse after committing their change, which ANALYZE then sees, and commit
at once. SQLite's ``PRAGMA optimize`` (3.40) only looks at tables whose indexes the
same connection's planner used, which a pooled connection cannot promise, so on
SQLite too crowd runs ANALYZE of the tables it judges stale (milliseconds for
hundreds of thousands of rows).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from crowd.persistence.base import Base

# A change of this many rows always refreshes the statistics of the tables it touched.
BULK_ROWS = 5_000
# autovacuum's default rule (autovacuum_analyze_threshold, _scale_factor): a table is
# stale once more than BASE_ROWS + SCALE x its analysed row count rows changed.
BASE_ROWS = 50
SCALE = 0.1


def is_stale(changed: float, analysed: float) -> bool:
    """Whether ``changed`` rows since the last ANALYZE of ``analysed`` rows pass the rule."""
    return changed > BASE_ROWS + SCALE * max(analysed, 0.0)


def needs_refresh(changed: int, analysed: float) -> bool:
    """Whether a change of ``changed`` rows is worth an ANALYZE: ``BULK_ROWS`` or
    more, or more than the autovacuum rule allows (a tenth of the table, plus 50)."""
    return changed >= BULK_ROWS or is_stale(changed, analysed)


def _crowd_table(table: Table) -> Table:
    if Base.metadata.tables.get(table.name) is not table:
        raise ValueError(f"{table.name!r} is not one of crowd's tables")
    return table


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def analysed_rows(session: Session, table: Table) -> float:
    """The row count the planner has for ``table`` from its last ANALYZE; 0 if never."""
    name = _crowd_table(table).name
    if _postgresql(session):
        rows = session.scalar(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"),
                              {"t": name})
        return max(float(rows or 0), 0.0)  # -1: never analysed or vacuumed
    if session.scalar(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")) is None:
        return 0.0
    stat = session.scalar(text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t LIMIT 1"),
                          {"t": name})
    return float(stat.split()[0]) if stat else 0.0


def analyse(session: Session, tables: Iterable[Table]) -> None:
    """ANALYZE each of ``tables`` in the session's transaction (the caller commits)."""
    quote = session.get_bind().dialect.identifier_preparer.quote
    for table in tables:
        session.execute(text(f"ANALYZE {quote(_crowd_table(table).name)}"))


def refresh_after(session: Session, tables: Iterable[Table], changed: int) -> list[str]:
    """After a committed change of ``changed`` rows to ``tables``, ANALYZE those for
    which ``needs_refresh`` says so; their names. A change of ``BASE_ROWS`` rows or
    fewer costs no statement."""
    if changed <= BASE_ROWS:
        return []
    stale = [t for t in tables if needs_refresh(changed, analysed_rows(session, t))]
    analyse(session, stale)
    return [t.name for t in stale]


def stale_tables(session: Session) -> list[Table]:
    """crowd's tables whose changes since their last ANALYZE pass ``is_stale``.

    PostgreSQL counts the changes (``pg_stat_user_tables.n_mod_since_analyze``, rows
    inserted, updated or deleted); SQLite does not, so there the change is how far
    the row count moved from the analysed one.
    """
    tables = Base.metadata.sorted_tables
    if _postgresql(session):
        rows = session.execute(text(
            "SELECT s.relname, s.n_mod_since_analyze, c.reltuples FROM pg_stat_user_tables s"
            " JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = current_schema()"))
        changes = {name: (float(changed), float(analysed)) for name, changed, analysed in rows}
        return [t for t in tables
                if t.name in changes and is_stale(*changes[t.name])]
    stale = []
    for table in tables:
        analysed = analysed_rows(session, table)
        count = session.scalar(select(func.count()).select_from(table)) or 0
        if is_stale(abs(count - analysed), analysed):
            stale.append(table)
    return stale
