"""The items an expert skipped on the review page, kept in their session.

The session is the expert's own signed cookie, so a skip never touches another
expert's queue and needs no table. It holds at most ``MAX_PER_PROJECT`` opaque
ids per project (the oldest skip falls back into the queue in its place) for at
most ``MAX_PROJECTS`` projects, which keeps the cookie well under 4 KB. Skips
live as long as the session: logging out, or another browser, starts afresh.
"""
from __future__ import annotations

from flask import session

from crowd.domain.public_ids import PUBLIC_ID_MAX

KEY = "review_skips"
MAX_PER_PROJECT = 40
MAX_PROJECTS = 3


def _all() -> dict[str, list[int]]:
    stored = session.get(KEY)
    if not isinstance(stored, dict):
        return {}
    return {
        project: [i for i in ids if isinstance(i, int) and 1 <= i <= PUBLIC_ID_MAX]
        for project, ids in stored.items() if isinstance(project, str) and isinstance(ids, list)
    }


def skipped(project_id: int) -> list[int]:
    """The project's skipped opaque ids, first skipped first."""
    return _all().get(str(project_id), [])


def _store(project_id: int, ids: list[int]) -> None:
    kept = {project: old for project, old in _all().items() if project != str(project_id)}
    if ids:
        kept[str(project_id)] = ids[-MAX_PER_PROJECT:]
    session[KEY] = dict(list(kept.items())[-MAX_PROJECTS:])


def skip(project_id: int, item_id: int) -> None:
    """Send the item to the back of this expert's queue (again, if skipped before)."""
    _store(project_id, [i for i in skipped(project_id) if i != item_id] + [item_id])


def forget(project_id: int, item_id: int) -> None:
    """Take the item off the skip list (it was resolved)."""
    ids = skipped(project_id)
    if item_id in ids:
        _store(project_id, [i for i in ids if i != item_id])


def keep_only(project_id: int, still: list[int]) -> None:
    """Drop the skips of items no longer in review (resolved by anyone)."""
    if still != skipped(project_id):
        _store(project_id, still)


def clear(project_id: int) -> None:
    """Put every skipped item of the project back in its place in the queue."""
    _store(project_id, [])
