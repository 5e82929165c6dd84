"""Settings, resolved once: command-line flags, then MODERATOR_* environment, then moderator.toml, then defaults.

Everything downstream receives a frozen ``Settings``; nothing else reads the environment or the config file.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parent
DEFAULT_MODEL_NAME = "moderator-de-v1"
CONFIG_FILE = "moderator.toml"
# The labelled training data (a checkout of the shared data beside the project): `moderator train` reads it.
DEFAULT_DATA_DIR = Path("../shared/data")
DEFAULT_PAGES_DIR = Path("../shared/samples/pages")  # labelled forum pages: the body off-topic model's data
# The model name that selects the deterministic lexical test scorer (moderator/scoring/fake.py), not a model.
FAKE_MODEL = "lexical-fake"


def default_models_dir() -> Path:
    """models/ beside the package (a source checkout), where the shipped heads live."""
    return PACKAGE_ROOT.parent / "models"


def default_moderator() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser() or "moderator"
    except OSError:
        return "moderator"


@dataclass(frozen=True)
class Settings:
    db: Path = Path("queue.db")
    moderator: str = ""
    model: str = DEFAULT_MODEL_NAME  # a name under models/, a directory, or 'lexical-fake' (tests)
    base_model: str = ""  # a transformers checkpoint directory; empty = converted multilingual-e5-small
    batch_size: int = 32
    policy: Path | None = None  # policy file for `flag`; None = the [policy] table of moderator.toml
    precision: str = "auto"  # the scorer's numerics: auto (by the CPU), fp32 or bf16
    config_file: Path | None = None

    def model_dir(self) -> Path:
        candidate = Path(self.model)
        if candidate.is_dir():
            return candidate
        return default_models_dir() / self.model


def _coerce(name: str, value: Any) -> Any:
    if name in ("db", "policy", "config_file"):
        return Path(value) if value not in (None, "") else None
    if name == "batch_size":
        return int(value)
    return str(value)


def config_path(path: Path | None = None) -> Path:
    """The config file in force: ``path`` (--config), else $MODERATOR_CONFIG, else ./moderator.toml."""
    return path or Path(os.environ.get("MODERATOR_CONFIG", CONFIG_FILE))


def read_config_file(path: Path | None) -> dict[str, Any]:
    """The whole moderator.toml (or {} when there is none); errors name the file."""
    candidate = config_path(path)
    if not candidate.exists():
        if path is not None:
            raise FileNotFoundError(f"{path}: config file not found")
        return {}
    try:
        with candidate.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{candidate}: {exc}") from exc


def _refuse_blank_moderator(flag: Any, env: str | None, file_value: Any) -> None:
    """A moderator name given but blank is an error, never a silent fall-back to $USER: it signs the audit log."""
    for source, value in (("--moderator", flag), ("$MODERATOR_MODERATOR", env or None), ("moderator.toml", file_value)):
        if value is not None and not str(value).strip():
            raise ValueError(f"{source}: a moderator name cannot be blank")


def load_settings(config_file: Path | None = None, **flags: Any) -> Settings:
    """Resolve settings; ``flags`` holds only what the user passed (None means 'not given')."""
    whole = read_config_file(config_file)
    file_values = dict(whole.get("moderator", {}))
    active = (whole.get("model") or {}).get("active")
    if active:  # `moderator model use` records the active model here; it wins over [moderator] model
        file_values["model"] = active
    names = {f.name for f in fields(Settings)}
    resolved: dict[str, Any] = {}
    for name in names - {"config_file"}:
        env = os.environ.get(f"MODERATOR_{name.upper()}")
        for value in (flags.get(name), env, file_values.get(name)):
            if value not in (None, ""):
                resolved[name] = _coerce(name, value)
                break
    _refuse_blank_moderator(flags.get("moderator"), os.environ.get("MODERATOR_MODERATOR"), file_values.get("moderator"))
    settings = replace(Settings(), **resolved, config_file=config_file)
    if not settings.moderator:
        settings = replace(settings, moderator=default_moderator())
    return settings
