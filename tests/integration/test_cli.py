"""The command line: every command's help, its work, and its errors."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from crowd.cli import build_parser, main


@pytest.fixture
def cli_env(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("CROWD_DATABASE_URL", database_url)
    monkeypatch.setenv("CROWD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("CROWD_CONFIG", raising=False)
    return database_url


@pytest.mark.parametrize("command", [
    [], ["db"], ["db", "upgrade"], ["users"], ["users", "create"], ["import"], ["demo"],
    ["serve"], ["scheduler"], ["aggregate"],
])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: crowd" in capsys.readouterr().out


def test_users_create_prints_a_generated_password_that_logs_in(cli_env, capsys, app, client):
    assert main(["users", "create", "carol", "--role", "manager"]) == 0
    out = capsys.readouterr().out
    password = out.split("password: ")[1].strip()
    response = client.post("/api/v1/tokens", json={"username": "carol", "password": password})
    assert response.status_code == 201


def test_users_create_refuses_a_taken_name_with_a_message(cli_env, capsys):
    assert main(["users", "create", "dave", "--role", "worker", "--password", "long-enough"]) == 0
    assert main(["users", "create", "dave", "--role", "worker", "--password", "long-enough"]) == 2
    assert "is taken" in capsys.readouterr().err


def test_import_reads_csv_with_a_progress_bar(cli_env, capsys, tmp_path, make_project):
    project = make_project(n_items=0)
    path = tmp_path / "items.csv"
    path.write_text("external_id,text,gold_label\nx1,hello,\nx2,world,a\n")
    assert main(["import", str(project["id"]), str(path)]) == 0
    captured = capsys.readouterr()
    assert "created 2, skipped 0 duplicate(s), 0 invalid row(s)" in captured.out
    assert "100% 2/2" in captured.err


def test_import_of_a_file_with_a_bad_row_imports_nothing_and_exits_2(cli_env, capsys, tmp_path,
                                                                    make_project, manager):
    project = make_project(n_items=0)
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps({"external_id": "ok", "data": {}}) + "\n"
                    + json.dumps({"external_id": "bad", "gold_label": "zzz"}) + "\n")
    assert main(["import", str(project["id"]), str(path)]) == 2
    err = capsys.readouterr().err
    assert "nothing was imported" in err and "row 2" in err
    assert manager.get(f"/projects/{project['id']}").get_json()["progress"]["items"] == 0


@pytest.mark.parametrize(("args", "message"), [
    (["import", "1", "/no/such/file.csv"], "no such file"),
    (["import", "999999", "README.md", "--format", "csv"], "not found"),
])
def test_import_errors_are_messages_not_tracebacks(cli_env, capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_demo_migrates_seeds_and_prints_credentials(cli_env, capsys, client):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "/login" in out
    password = next(line.split("password: ")[1] for line in out.splitlines()
                    if "demo-worker " in line)
    token = client.post("/api/v1/tokens", json={"username": "demo-worker",
                                                "password": password}).get_json()["token"]
    offer = client.post("/api/v1/projects/1/next", headers={"Authorization": f"Bearer {token}"})
    assert offer.status_code == 200 and offer.get_json()["mode"] == "qualification"
    assert main(["demo"]) == 0  # a second run adds nothing twice


def test_production_settings_refuse_a_default_secret_key(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "CROWD_CONFIG": "production",
           "CROWD_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"}
    result = subprocess.run([sys.executable, "-m", "crowd.cli", "db", "upgrade"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "CROWD_SECRET_KEY must be set" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_without_the_schema_is_a_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CROWD_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert main(["users", "create", "erin", "--role", "worker", "--password", "long-enough"]) == 2
    assert "crowd db upgrade" in capsys.readouterr().err
