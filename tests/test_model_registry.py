"""`moderator model list | use | rollback` on a temporary models directory and moderator.toml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from moderator.cli import main
from moderator.config import load_settings


def make_model(models: Path, name: str) -> None:
    (models / name).mkdir(parents=True)
    (models / name / "config.json").write_text(json.dumps({"name": name, "model_version": f"{name}+e5s-12345678"}))


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    models = tmp_path / "models"
    for name in ("moderator-de-v1", "moderator-de-house"):
        make_model(models, name)
    (models / "notes").mkdir()  # no config.json: not a model
    config = tmp_path / "moderator.toml"
    config.write_text('# our desk\n[moderator]\nmoderator = "ana"\n\n[keys]\napprove = "y"\n')
    return models, config


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_list_use_rollback(setup: tuple[Path, Path]) -> None:
    models, config = setup
    base = ["--models-dir", str(models), "--config", str(config)]
    code, out, _ = run("model", "list", *base, "--json")
    assert code == 0
    listed = json.loads(out)
    assert [(m["name"], m["active"]) for m in listed] == [("moderator-de-house", False), ("moderator-de-v1", True)]
    assert listed[0]["model_version"] == "moderator-de-house+e5s-12345678"

    code, _, err = run("model", "use", "moderator-de-house", *base)
    assert code == 0 and "active model: moderator-de-house (previous: moderator-de-v1" in err
    text = config.read_text()
    assert '[model]\nactive = "moderator-de-house"\nprevious = "moderator-de-v1"' in text
    assert '# our desk\n[moderator]\nmoderator = "ana"' in text and 'approve = "y"' in text  # the rest is kept
    assert load_settings(config).model == "moderator-de-house"  # scoring picks it up
    code, out, _ = run("model", "list", *base)
    assert "* moderator-de-house" in out and "  moderator-de-v1" in out

    code, _, err = run("model", "rollback", *base)
    assert code == 0 and "active model: moderator-de-v1 (previous: moderator-de-house)" in err
    assert load_settings(config).model == "moderator-de-v1"
    assert config.read_text().count("[model]") == 1


def test_use_unknown_and_rollback_without_previous(setup: tuple[Path, Path]) -> None:
    models, config = setup
    base = ["--models-dir", str(models), "--config", str(config)]
    code, _, err = run("model", "use", "nope", *base)
    assert code == 1 and "nope: no model there" in err and "moderator-de-v1" in err
    code, _, err = run("model", "rollback", *base)
    assert code == 1 and "no previous model recorded" in err


def test_a_model_path_with_quotes_stays_one_toml_value(setup: tuple[Path, Path], tmp_path: Path) -> None:
    models, config = setup
    odd = tmp_path / 'our "house" model'
    make_model(tmp_path, odd.name)
    base = ["--models-dir", str(models), "--config", str(config)]
    code, _, err = run("model", "use", str(odd), *base)
    assert code == 0, err
    assert load_settings(config).model == str(odd)
    code, _, err = run("model", "rollback", *base)
    assert code == 0 and load_settings(config).model == "moderator-de-v1"
