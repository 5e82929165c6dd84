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


# -- moderator serve ------------------------------------------------------------------------------------------
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class ServeSettings:
    """What `moderator serve` needs beyond ``Settings``: where it listens, who may call it, and its limits.

    Keys and secrets come from ``[serve]`` in moderator.toml or from ``MODERATOR_API_KEYS`` and
    ``MODERATOR_CORAL_SECRETS`` (comma-separated; the environment wins, so secrets need not sit in a file).
    """

    host: str = "127.0.0.1"
    port: int = 8080
    api_keys: tuple[str, ...] = ()
    coral_secrets: tuple[str, ...] = ()
    no_auth: bool = False  # only on a loopback host: a desk's own machine, for trying it out
    max_body_bytes: int = 64 * 1024
    max_text_bytes: int = 20 * 1024  # Perspective's own limit on comment.text
    rate_per_s: float = 20.0  # each key's token bucket: refill rate ...
    rate_burst: int = 40  # ... and size
    batch_max: int = 32  # micro-batching: score up to this many requests together ...
    batch_wait_ms: float = 5.0  # ... collected for at most this long after the first arrives
    hold_queued: bool = False  # Coral: answer PREMOD for comments the policy queues for a human
    approve_status: bool = False  # Coral: answer 200 {"status": "APPROVED"} instead of 204 for approved ones

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"[serve] port: {self.port} is not a port")
        for name in ("max_body_bytes", "max_text_bytes", "rate_per_s", "rate_burst", "batch_max"):
            if getattr(self, name) <= 0:
                raise ValueError(f"[serve] {name}: must be positive, got {getattr(self, name)}")
        if self.batch_wait_ms < 0:
            raise ValueError(f"[serve] batch_wait_ms: must not be negative, got {self.batch_wait_ms}")

    def auth_problem(self) -> str | None:
        """Why this configuration must not start, or None: no keys is only allowed with --no-auth on loopback."""
        if self.api_keys:
            return None
        if not self.no_auth:
            return (
                "no API keys configured: set [serve] api_keys in moderator.toml or $MODERATOR_API_KEYS, "
                "or pass --no-auth (loopback hosts only)"
            )
        if self.host not in LOOPBACK_HOSTS:
            return f"--no-auth is refused on {self.host}: without keys the server only listens on 127.0.0.1"
        return None


def _names(value: Any, source: str) -> tuple[str, ...]:
    """A comma-separated string or a TOML list of strings, as a tuple of non-blank names."""
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = value
    else:
        raise ValueError(f"{source}: expected a list of strings or a comma-separated string")
    return tuple(item.strip() for item in items if item.strip())


def load_serve_settings(config: dict[str, Any], **flags: Any) -> ServeSettings:
    """``[serve]`` of moderator.toml under MODERATOR_* environment under flags (None means 'not given').

    Unknown keys are errors naming the key, as in ``[policy]``: a misspelt limit must not silently not apply.
    """
    table = config.get("serve", {})
    if not isinstance(table, dict):
        raise ValueError("moderator.toml: [serve] must be a table")
    known = {f.name for f in fields(ServeSettings)}
    unknown = set(table) - known
    if unknown:
        raise ValueError(f"moderator.toml: unknown key(s) in [serve]: {', '.join(sorted(unknown))}")
    resolved: dict[str, Any] = dict(table)
    for name in ("api_keys", "coral_secrets"):
        env = os.environ.get(f"MODERATOR_{name.upper()}")
        if env:
            resolved[name] = env
    resolved.update({k: v for k, v in flags.items() if v is not None})
    defaults = ServeSettings()
    out: dict[str, Any] = {}
    for name, value in resolved.items():
        default = getattr(defaults, name)
        try:
            if isinstance(default, tuple):
                out[name] = _names(value, f"[serve] {name}")
            elif isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ValueError("expected true or false")
                out[name] = value
            else:
                out[name] = type(default)(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"moderator.toml: [serve] {name}: {exc}") from exc
    try:
        return replace(defaults, **out)
    except ValueError as exc:
        raise ValueError(f"moderator.toml: {exc}") from exc
