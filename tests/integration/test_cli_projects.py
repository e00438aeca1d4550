"""``crowd projects create`` and ``crowd projects list``: the API's validation, one flag per
setting, and a one-line message with exit code 2 for anything it refuses."""
from __future__ import annotations

from typing import Any

import pytest

from crowd.cli import build_parser, main
from crowd.cli_projects import setting_range
from crowd.domain.settings import SETTINGS, SWITCHES
from tests.conftest import Api
from tests.integration.test_cli import cli_env  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("cli_env")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def test_create_has_a_flag_with_its_meaning_for_every_setting(capsys: Any) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["projects", "create", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for setting in SETTINGS:
        assert _flag(setting.name) in text, setting.name
        assert f"({setting_range(setting)})" in text
    for switch in SWITCHES:
        assert f"{_flag(switch.name)}, --no-{_flag(switch.name)[2:]}" in text, switch.name


def test_create_then_list(capsys: Any, tmp_path: Any, make_user: Any,
                          client: Any) -> None:
    _, token = make_user("manager", username="cli-boss")
    guidelines = tmp_path / "guidelines.md"
    guidelines.write_text("# Cats\n\nA cat has **whiskers**.\n", encoding="utf-8")
    assert main(["projects", "create", "Cats or dogs", "--labels", "cat, dog,bird",
                 "--redundancy", "2", "--max-redundancy", "4", "--gold-rate", "0.25",
                 "--fast-answer-ms", "0", "--enrollment", "invite", "--allow-undo",
                 "--guidelines-file", str(guidelines), "--manager", "cli-boss"]) == 0
    out = capsys.readouterr().out
    assert "created project" in out and "'Cats or dogs'" in out and "cli-boss" in out
    boss = Api(client, token)
    (listed,) = boss.get("/projects").get_json()["projects"]  # its manager is a member
    project = boss.get(f"/projects/{listed['id']}").get_json()
    assert project["labels"] == ["cat", "dog", "bird"]
    assert (project["redundancy"], project["max_redundancy"], project["gold_rate"]) == (2, 4, 0.25)
    assert project["fast_answer_ms"] == 0 and project["enrollment"] == "invite"
    assert project["allow_undo"] is True
    assert project["guidelines"].startswith("# Cats")
    assert project["qualification_size"] == 10  # a default
    boss.post(f"/projects/{listed['id']}/items", [{"external_id": "x", "data": {}}])
    assert main(["projects", "list"]) == 0
    line = capsys.readouterr().out.strip()
    assert f"{listed['id']}" in line and "1 items" in line and "Cats or dogs" in line


def test_list_without_projects_says_how_to_make_one(capsys: Any) -> None:
    assert main(["projects", "list"]) == 0
    assert "crowd projects create" in capsys.readouterr().out


@pytest.mark.parametrize(("extra", "message"), [
    (["--labels", "only"], "labels must hold 2 to 100 classes"),
    (["--labels", "a,a"], "labels must be distinct"),
    (["--labels", "a,"], "every label must be a non-empty string"),
    (["--labels", "a,b", "--redundancy", "lots"], "--redundancy must be a number, got 'lots'"),
    (["--labels", "a,b", "--redundancy", "0"], "redundancy must be between 1 and 100"),
    (["--labels", "a,b", "--redundancy", "2.5"], "redundancy must be a whole number"),
    (["--labels", "a,b", "--redundancy", "4", "--max-redundancy", "3"],
     "max_redundancy must be at least redundancy"),
    (["--labels", "a,b", "--gold-rate", "nan"], "gold_rate must be a finite number"),
    (["--labels", "a,b", "--gold-rate", "1e999"], "gold_rate must be a finite number"),
    (["--labels", "a,b", "--guidelines-file", "/no/such/file.md"], "no such file"),
    (["--labels", "a,b", "--manager", "nobody"], "no user 'nobody'"),
    (["--labels", "a,b", "--manager", "cli-hand"], "'cli-hand' is a worker, not a manager"),
])
def test_bad_input_is_one_line_and_exit_2_and_creates_nothing(
        capsys: Any, make_user: Any, extra: list[str], message: str) -> None:
    make_user("worker", username="cli-hand")
    assert main(["projects", "create", "refused", *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("crowd: error: "), err
    assert message in err and "Traceback" not in err
    assert main(["projects", "list"]) == 0
    assert "refused" not in capsys.readouterr().out


def test_an_empty_name_is_refused(capsys: Any) -> None:
    assert main(["projects", "create", " ", "--labels", "a,b"]) == 2
    assert "name must be a non-empty string" in capsys.readouterr().err
