"""Model directories and which one is active: `moderator model list | use | rollback`.

A model is a directory with a config.json (under models/, or anywhere). The active one is recorded in
moderator.toml as ``[model] active = NAME``, with the one before it as ``previous`` so a switch can be rolled
back; the rest of the file is kept as it is. Scoring picks the active model up through ``config.Settings``, and
its version goes into every score and decision as before. No torch here: `model list` reads JSON only.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from moderator.config import config_path

MODEL_CONFIG = "config.json"  # the schema itself lives in scoring/artifacts.py; here only name and version are read


class RegistryError(ValueError):
    """A model that is not there, or nothing to roll back to; the message names it."""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    path: Path
    model_version: str
    active: bool

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "path": str(self.path), "model_version": self.model_version, "active": self.active}


def list_models(models_dir: Path, active: str) -> list[ModelEntry]:
    """Every directory of ``models_dir`` holding a config.json, by name; ``active`` is marked."""
    out = []
    for path in sorted(p for p in models_dir.iterdir() if (p / MODEL_CONFIG).is_file()) if models_dir.is_dir() else []:
        try:
            version = str(json.loads((path / MODEL_CONFIG).read_text()).get("model_version", ""))
        except (OSError, ValueError):
            version = "(unreadable config.json)"
        out.append(ModelEntry(path.name, path, version, path.name == active or str(path) == active))
    return out


def resolve(models_dir: Path, name: str) -> Path:
    """The directory a model name (or path) means; refused unless it holds a config.json."""
    path = Path(name) if Path(name).is_dir() else models_dir / name
    if not (path / MODEL_CONFIG).is_file():
        known = ", ".join(e.name for e in list_models(models_dir, "")) or "none"
        raise RegistryError(f"{name}: no model there ({path / MODEL_CONFIG} missing; models in {models_dir}: {known})")
    return path


def _model_table(text: str) -> tuple[str, dict[str, str]]:
    """The file without its ``[model]`` table, and that table's string values."""
    lines, values, inside = [], {}, False
    for line in text.splitlines():
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            inside = header.group(1).strip() == "model"
            if inside:
                continue
        if inside:
            kv = re.match(r'\s*(\w+)\s*=\s*"([^"]*)"', line)
            if kv:
                values[kv.group(1)] = kv.group(2)
            continue
        lines.append(line)
    return "\n".join(lines).rstrip(), values


def _write_model_table(config_file: Path, active: str, previous: str) -> None:
    rest, _ = _model_table(config_file.read_text() if config_file.exists() else "")
    # json.dumps writes a valid TOML basic string: a path with quotes or backslashes stays one value
    table = f"[model]\nactive = {json.dumps(active)}\n" + (f"previous = {json.dumps(previous)}\n" if previous else "")
    config_file.write_text((rest + "\n\n" if rest else "") + table)


def recorded(config_file: Path) -> dict[str, str]:
    """``active`` and ``previous`` as moderator.toml records them (empty when not)."""
    if not config_file.exists():
        return {}
    table = tomllib.loads(config_file.read_text()).get("model", {})
    return {k: str(v) for k, v in table.items() if k in ("active", "previous") and isinstance(v, str)}


def use_model(config_file: Path | None, models_dir: Path, name: str, current: str) -> tuple[str, str]:
    """Make ``name`` the active model; the one in force (``current``) becomes ``previous``. Returns both."""
    resolve(models_dir, name)
    path = config_path(config_file)
    previous = current if current != name else recorded(path).get("previous", "")
    _write_model_table(path, name, previous)
    return name, previous


def rollback(config_file: Path | None, models_dir: Path, current: str) -> tuple[str, str]:
    """Switch back to the previous model (the current one becomes previous, so rollback twice is a no-op)."""
    path = config_path(config_file)
    previous = recorded(path).get("previous", "")
    if not previous:
        raise RegistryError(f"{path}: no previous model recorded; `moderator model use NAME` records one")
    resolve(models_dir, previous)
    _write_model_table(path, previous, current)
    return previous, current
