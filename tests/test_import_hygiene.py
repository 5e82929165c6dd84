"""The headless core never imports the TUI, and the fast paths never import torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = "import sys; {stmt}; bad = [m for m in {modules!r} if m in sys.modules]; print(','.join(bad))"


def loaded_after(stmt: str, modules: tuple[str, ...]) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", CHECK.format(stmt=stmt, modules=modules)], capture_output=True, text=True, check=True
    ).stdout.strip()
    return [m for m in out.split(",") if m]


@pytest.mark.parametrize(
    "module",
    [
        "moderator.clock",
        "moderator.store",
        "moderator.desk",
        "moderator.export",
        "moderator.cli",
        "moderator.policy",
        "moderator.flagging",
        "moderator.ingest",
        "moderator.scoring",
    ],
)
def test_core_modules_import_neither_textual_nor_torch(module: str) -> None:
    assert loaded_after(f"import {module}", ("textual", "torch", "transformers")) == []


def test_help_and_list_do_not_import_torch_or_textual(tmp_path) -> None:
    stmt = (
        "from click.testing import CliRunner; from moderator.cli import main; "
        f"CliRunner().invoke(main, ['--help']); CliRunner().invoke(main, ['list', '--db', r'{tmp_path / 'q.db'}'])"
    )
    assert loaded_after(stmt, ("textual", "torch", "transformers")) == []
