"""Configuration from the environment (and ``.env`` when present), validated at start-up.
A bad value raises ConfigError naming the variable; the CLI prints one line, exits 2."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from adapters.database import DatabaseConfig, DatabaseUrlError, parse_database_url
from checkout_saga.pricing import parse_rate
from checkout_saga.saga import DEFAULT_RESERVATION_TTL


class ConfigError(ValueError):
    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


_DEFAULT_TTL_SECONDS = int(DEFAULT_RESERVATION_TTL.total_seconds())


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./var/checkout-saga.db"
    database: DatabaseConfig = field(default_factory=lambda: parse_database_url("sqlite:///./var/checkout-saga.db"))
    host: str = "127.0.0.1"
    port: int = 8000
    api_keys: tuple[str, ...] = ()
    admin_keys: tuple[str, ...] = ()
    keys_generated: bool = False
    stripe_secret_key: str | None = None
    stripe_api_base: str | None = None
    stripe_webhook_secret: str | None = None
    reservation_ttl_seconds: int = _DEFAULT_TTL_SECONDS
    stripe_emulator_port: int = 12111
    log_format: str = "json"
    workers: int = field(default_factory=lambda: default_workers())
    # pricing (CONTRACT §1 v2): fixed into each checkout's first event
    default_currency: str = "usd"
    tax_rate: str = "0"
    shipping_amount: int = 0
    free_shipping_over: int | None = None
    rate_limit_per_minute: int = 1200  # storefront writes per key per minute; 0: no limit
    redis_url: str | None = None  # shares the rate limit's count across processes and machines
    smtp_url: str | None = field(default=None, repr=False)  # may hold a password; unset: mails are written under ./var/outbox/
    mail_from: str = "shop@localhost"
    admin_email: str | None = None  # unset: no operator alerts are mailed
    refund_window_days: int = 90  # v2: CHECKOUT_SAGA_REFUND_WINDOW_DAYS
    refund_approval_above: int | None = None  # v2: CHECKOUT_SAGA_REFUND_APPROVAL_ABOVE

    @property
    def uses_emulator(self) -> bool:
        return self.stripe_secret_key is None


def default_workers() -> int:
    """``CHECKOUT_SAGA_WORKERS`` when unset: one API process per CPU this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):  # not Linux
        return max(os.cpu_count() or 1, 1)


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def _int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(name, f"must be between {low} and {high}, got {value}")
    return value


def _optional_int(env: dict[str, str], name: str, low: int, high: int) -> int | None:
    if not env.get(name):
        return None
    return _int(env, name, 0, low, high)


def _keys(env: dict[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    for key in keys:
        if len(key) < 16:
            raise ConfigError(name, "each key must be at least 16 characters")
    return keys


_MAX_MONEY = 99_999_999_999


def _currency(env: dict[str, str], name: str) -> str:
    value = env.get(name) or "usd"
    if len(value) != 3 or not value.isascii() or not value.isalpha() or not value.islower():
        raise ConfigError(name, f"must be a lower-case ISO 4217 code such as usd, got {value!r}")
    return value


def _rate(env: dict[str, str], name: str) -> str:
    value = (env.get(name) or "0").strip()
    try:
        parse_rate(value)
    except ValueError as exc:
        raise ConfigError(name, str(exc)) from None
    return value


def _optional_int(env: dict[str, str], name: str, low: int, high: int) -> int | None:
    if not env.get(name):
        return None
    return _int(env, name, 0, low, high)
_ADDRESS = re.compile(r"\A[^@\s<>,;\"]+@[^@\s<>,;\"]+\Z")


def _address(env: dict[str, str], name: str, default: str | None) -> str | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if len(raw) > 254 or not _ADDRESS.match(raw):
        raise ConfigError(name, f"must be an e-mail address like shop@example.com, got {raw!r}")
    return raw


def _smtp_url(env: dict[str, str]) -> str | None:
    from adapters.mail import SmtpUrlError, parse_smtp_url

    raw = (env.get("CHECKOUT_SAGA_SMTP_URL") or "").strip() or None
    if raw is not None:
        try:
            parse_smtp_url(raw)
        except SmtpUrlError as exc:  # the message never repeats the URL (it may hold a password)
            raise ConfigError("CHECKOUT_SAGA_SMTP_URL", str(exc)) from None
    return raw


def load_settings(environ: dict[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
    env = dict(_read_dotenv(dotenv)) if dotenv is not None else {}
    env.update(os.environ if environ is None else environ)
    url = env.get("CHECKOUT_SAGA_DATABASE_URL") or "sqlite:///./var/checkout-saga.db"
    try:
        database = parse_database_url(url)
    except DatabaseUrlError as exc:
        raise ConfigError("CHECKOUT_SAGA_DATABASE_URL", str(exc)) from None
    log_format = env.get("CHECKOUT_SAGA_LOG_FORMAT") or ("console" if os.isatty(2) else "json")
    if log_format not in ("console", "json"):
        raise ConfigError("CHECKOUT_SAGA_LOG_FORMAT", f"must be console or json, got {log_format!r}")
    api_keys = _keys(env, "CHECKOUT_SAGA_API_KEYS")
    admin_keys = _keys(env, "CHECKOUT_SAGA_ADMIN_KEYS")
    generated = False
    if not api_keys:
        api_keys, generated = (f"sk_store_{secrets.token_urlsafe(24)}",), True
    if not admin_keys:
        admin_keys, generated = (f"sk_admin_{secrets.token_urlsafe(24)}",), True
    secret = env.get("STRIPE_SECRET_KEY") or None
    if secret is not None and not secret.startswith(("sk_", "rk_")):
        raise ConfigError("STRIPE_SECRET_KEY", "must start with sk_ or rk_")
    base = env.get("STRIPE_API_BASE") or None
    if base is not None and not base.startswith(("http://", "https://")):
        raise ConfigError("STRIPE_API_BASE", "must be an http(s) URL")
    webhook_secret = env.get("STRIPE_WEBHOOK_SECRET") or None
    if webhook_secret is not None and not webhook_secret.startswith("whsec_"):
        raise ConfigError("STRIPE_WEBHOOK_SECRET", "must start with whsec_")
    host = env.get("CHECKOUT_SAGA_HOST") or "127.0.0.1"
    redis_url = env.get("CHECKOUT_SAGA_REDIS_URL") or None
    if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("CHECKOUT_SAGA_REDIS_URL", "must be a redis://, rediss:// or unix:// URL")
    return Settings(
        database_url=url, database=database, host=host,
        port=_int(env, "CHECKOUT_SAGA_PORT", 8000, 0, 65535),
        api_keys=api_keys, admin_keys=admin_keys, keys_generated=generated,
        stripe_secret_key=secret, stripe_api_base=base, stripe_webhook_secret=webhook_secret,
        reservation_ttl_seconds=_int(env, "CHECKOUT_SAGA_RESERVATION_TTL_SECONDS", _DEFAULT_TTL_SECONDS, 1, 7 * 86400),
        stripe_emulator_port=_int(env, "CHECKOUT_SAGA_STRIPE_EMULATOR_PORT", 12111, 0, 65535),
        log_format=log_format,
        workers=_int(env, "CHECKOUT_SAGA_WORKERS", default_workers(), 1, 256),
        default_currency=_currency(env, "CHECKOUT_SAGA_DEFAULT_CURRENCY"),
        tax_rate=_rate(env, "CHECKOUT_SAGA_TAX_RATE"),
        shipping_amount=_int(env, "CHECKOUT_SAGA_SHIPPING_AMOUNT", 0, 0, _MAX_MONEY),
        free_shipping_over=_optional_int(env, "CHECKOUT_SAGA_FREE_SHIPPING_OVER", 0, _MAX_MONEY),
        rate_limit_per_minute=_int(env, "CHECKOUT_SAGA_RATE_LIMIT_PER_MINUTE", 1200, 0, 10_000_000),
        redis_url=redis_url,
        smtp_url=_smtp_url(env),
        mail_from=_address(env, "CHECKOUT_SAGA_MAIL_FROM", "shop@localhost") or "shop@localhost",
        admin_email=_address(env, "CHECKOUT_SAGA_ADMIN_EMAIL", None),
        refund_window_days=_int(env, "CHECKOUT_SAGA_REFUND_WINDOW_DAYS", 90, 0, 36500),
        refund_approval_above=_optional_int(env, "CHECKOUT_SAGA_REFUND_APPROVAL_ABOVE", 0, 10**12),
    )
