"""The pure rules behind teams and logins: who may reach a project, the back-off,
password rules and local redirect targets."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crowd.domain.access import may, role_problem
from crowd.domain.passwords import common_passwords, password_problem
from crowd.domain.throttle import ACCOUNT, ADDRESS, Backoff, retry_after
from crowd.web.ui.auth import local_target

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("role", "need", "enrollment", "member", "removed", "allowed"), [
    ("admin", "manage", "invite", None, False, True),
    ("manager", "manage", "open", "manager", False, True),
    ("manager", "manage", "open", None, False, False),
    ("manager", "manage", "open", "manager", True, False),
    ("manager", "review", "open", "manager", False, False),
    ("expert", "review", "open", "expert", False, True),
    ("expert", "review", "open", None, False, False),
    ("worker", "work", "open", None, False, True),
    ("worker", "work", "invite", None, False, False),
    ("worker", "work", "invite", "worker", False, True),
    ("worker", "work", "open", "worker", True, False),
    ("worker", "manage", "open", "worker", False, False),
    ("worker", "see", "open", None, False, True),
    ("expert", "see", "open", None, False, False),
])
def test_who_may_reach_a_project(role, need, enrollment, member, removed, allowed):
    assert may(role, need, enrollment, member, removed) is allowed


def test_a_member_role_must_be_the_account_role():
    assert role_problem("worker", None) is None
    assert role_problem("worker", "worker") is None
    assert "worker member" in role_problem("worker", "manager")
    assert "admins" in role_problem("admin", None)
    assert "one of" in role_problem("expert", "owner")


def test_the_account_back_off_doubles_from_the_third_failure_and_stops_at_15_minutes():
    assert [ACCOUNT.wait(n) for n in range(1, 8)] == [0, 0, 1, 2, 4, 8, 16]
    assert ACCOUNT.wait(10_000) == 900
    assert ADDRESS.wait(19) == 0 and ADDRESS.wait(20) == 1
    assert ACCOUNT.blocked_until(2, NOW) is None
    assert ACCOUNT.blocked_until(4, NOW) == NOW + timedelta(seconds=2)


def test_a_quiet_hour_forgets_the_failures():
    policy = Backoff(free=3, forget=3600)
    assert not policy.stale(NOW, NOW + timedelta(seconds=3599))
    assert policy.stale(NOW, NOW + timedelta(seconds=3600))


def test_retry_after_is_whole_seconds_and_at_least_one():
    assert retry_after(NOW + timedelta(seconds=0.2), NOW) == 1
    assert retry_after(NOW + timedelta(seconds=2.01), NOW) == 3


def test_the_shipped_common_list_is_loaded_and_folded():
    assert "password123" in common_passwords() and len(common_passwords()) > 100
    assert password_problem("PassWord123") is not None
    assert password_problem("violet-kettle-47") is None


@pytest.mark.parametrize(("target", "kept"), [
    ("/work/3", True), ("/manage/1?tab=workers", True), ("/", True),
    ("//evil.example", False), ("/\t/evil.example/", False), ("/\\evil.example", False),
    ("https://evil.example", False), ("evil.example", False), ("", False), (None, False),
    ("/\x7f/x", False), ("/ok\n", False), ("/" + "a" * 2001, False),
])
def test_only_a_local_path_is_a_redirect_target(target, kept):
    assert (local_target(target) is not None and local_target(target) == target) is kept
