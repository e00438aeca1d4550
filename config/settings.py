"""Configuration classes; every field comes from a ``CROWD_*`` environment variable."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "dev-only-insecure-secret"


def _env(name: str, default: str) -> str:
    return os.environ.get(f"CROWD_{name}", default)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(f"CROWD_{name}")
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"CROWD_{name} must be an integer, got {raw!r}") from None


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(f"CROWD_{name}")
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def default_instance_path() -> Path:
    return Path(_env("INSTANCE_PATH", str(REPO_ROOT / "instance")))


class BaseConfig:
    """Settings shared by every environment."""

    NAME = "base"

    def __init__(self) -> None:
        self.INSTANCE_PATH = default_instance_path()
        self.DATABASE_URL = _env(
            "DATABASE_URL", f"sqlite:///{self.INSTANCE_PATH / 'crowd.sqlite'}"
        )
        # Seconds a new PostgreSQL connection may take before the request fails (503).
        self.DATABASE_CONNECT_TIMEOUT = _env_int("DATABASE_CONNECT_TIMEOUT", 5)
        self.SECRET_KEY = _env("SECRET_KEY", DEFAULT_SECRET)
        self.MAX_IMPORT_BYTES = _env_int("MAX_IMPORT_BYTES", 50 * 1024 * 1024)
        self.MAX_CONTENT_LENGTH = self.MAX_IMPORT_BYTES
        self.RANDOM_SEED: int | None = (
            _env_int("RANDOM_SEED", 0) if os.environ.get("CROWD_RANDOM_SEED") else None
        )
        self.SCHEDULER_ENABLED = _env_bool("SCHEDULER_ENABLED", False)
        # "text" (readable, as before) or "json": one JSON line per request on stderr.
        self.LOG_FORMAT = _env("LOG_FORMAT", "text").strip().lower()
        self.AGGREGATE_INTERVAL_SECONDS = _env_int("AGGREGATE_INTERVAL_SECONDS", 300)
        self.DRIFT_INTERVAL_SECONDS = _env_int("DRIFT_INTERVAL_SECONDS", 120)
        self.LEASE_CLEANUP_INTERVAL_SECONDS = _env_int("LEASE_CLEANUP_INTERVAL_SECONDS", 60)
        # How often crowd's tables changed enough since their last ANALYZE are analysed.
        self.STATISTICS_INTERVAL_SECONDS = _env_int("STATISTICS_INTERVAL_SECONDS", 300)
        # How often new labels are counted into the dashboard's hourly and per-worker series.
        self.ACTIVITY_INTERVAL_SECONDS = _env_int("ACTIVITY_INTERVAL_SECONDS", 60)
        # Days a new API token lives (the token answer says when it expires).
        self.TOKEN_DAYS = _env_int("TOKEN_DAYS", 30)
        # Seconds a process may answer a token's user from memory (0: never). A
        # revocation or deactivation reaches other processes within this time.
        self.TOKEN_CACHE_SECONDS = _env_int("TOKEN_CACHE_SECONDS", 5)
        # Origins (https://images.example.com, space-separated) whose images the worker
        # page may show: added to the CSP's img-src. Empty: such images are links.
        self.IMAGE_SOURCES = _env("IMAGE_SOURCES", "")
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.WTF_CSRF_ENABLED = True
        self.TESTING = False

    def as_flask(self) -> dict[str, object]:
        """The upper-case fields as a dict for ``app.config``."""
        return {k: v for k, v in vars(self).items() if k.isupper()}


class DevelopmentConfig(BaseConfig):
    """Local use: SQLite in the instance folder, insecure cookies allowed."""

    NAME = "development"


class ProductionConfig(BaseConfig):
    """Production: refuses a default or empty secret key; secure cookies."""

    NAME = "production"

    def __init__(self) -> None:
        super().__init__()
        if not self.SECRET_KEY or self.SECRET_KEY == DEFAULT_SECRET:
            raise ValueError(
                "CROWD_SECRET_KEY must be set to a long random value in production"
            )
        self.SESSION_COOKIE_SECURE = True
        self.REMEMBER_COOKIE_SECURE = True
        self.SESSION_COOKIE_SAMESITE = "Strict"
        self.REMEMBER_COOKIE_SAMESITE = "Strict"


class TestConfig(BaseConfig):
    """Tests: a database URL passed in, CSRF on (tests fetch tokens like a browser)."""

    NAME = "test"

    def __init__(self, database_url: str | None = None, **overrides: object) -> None:
        super().__init__()
        self.TESTING = True
        self.SECRET_KEY = "test-secret"
        if database_url:
            self.DATABASE_URL = database_url
        self.RANDOM_SEED = 12345
        for key, value in overrides.items():
            setattr(self, key, value)


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "test": TestConfig,
}


def config_from_env() -> BaseConfig:
    """The settings named by ``CROWD_CONFIG`` (default ``development``)."""
    name = os.environ.get("CROWD_CONFIG", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise ValueError(
            f"CROWD_CONFIG must be one of {', '.join(CONFIGS)}, got {name!r}"
        ) from None
