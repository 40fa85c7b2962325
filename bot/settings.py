"""Settings from the environment and `.env`; the environment wins."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from handlers.calendar import BusinessHours

# The project's folder (the checkout, where pyproject.toml is): a relative store path is
# taken from here, not from wherever the desk happens to be started.
_CHECKOUT = Path(__file__).resolve().parent.parent
PROJECT_DIR = _CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else Path.cwd()

_DURATION = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2})$")


def parse_duration(value: Any) -> Any:
    """Seconds as the environment gives them ("3"), `HH:MM:SS`, or ISO 8601 for pydantic."""
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return timedelta(seconds=int(text))
        match = _DURATION.match(text)
        if match:
            hours, minutes, seconds = (int(g or 0) for g in match.groups())
            return timedelta(hours=hours, minutes=minutes, seconds=seconds)
    return value


def project_sqlite_url(value: str) -> str:
    """`sqlite:///name.sqlite3` as the file in the project's folder; absolute paths as given."""
    for prefix in ("sqlite:///", "sqlite://"):
        if value.startswith(prefix):
            path = value[len(prefix):]
            if path and path != ":memory:" and not Path(path).is_absolute():
                return f"sqlite:///{PROJECT_DIR / path}"
            return value
    return value


def split_ids(value: Any) -> Any:
    """`5001,5002` as a deployer writes it, or a JSON list."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return text
        return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every setting Frontdesk reads; `.env.example` lists them with comments."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_token: SecretStr = SecretStr("")
    telegram_api_url: str = "https://api.telegram.org"
    telegram_citizens: bool = True
    staff_chat_id: int | None = None
    staff_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    discussion_chat_id: int | None = None

    vk_token: SecretStr = SecretStr("")
    vk_group_id: int | None = None
    vk_api_url: str = "https://api.vk.ru/method/"

    database_url: str = "sqlite:///frontdesk.sqlite3"
    locale: Literal["ru", "en"] = "ru"
    locales_dir: str = ""
    timezone: str = "Europe/Moscow"

    escalation_after: timedelta = timedelta(hours=8)
    escalation_check_interval: timedelta = timedelta(seconds=60)
    escalation_repeat: timedelta = timedelta(hours=8)
    escalation_chat_id: int | None = None
    business_hours: str = "Mon-Fri 09:00-18:00"
    digest_at: time | None = time(9, 0)
    duty_mentions: str = ""

    organization_name: str = ""
    organization_site_url: str = ""
    gosuslugi_feedback_url: str = ""
    privacy_policy_url: str = ""

    pacing: bool = True
    flood_limit: int = Field(default=20, ge=1)
    delivery_give_up_after: timedelta = timedelta(hours=24)
    shutdown_timeout: timedelta = timedelta(seconds=10)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    _durations = field_validator(
        "escalation_after", "escalation_check_interval", "escalation_repeat",
        "shutdown_timeout", "delivery_give_up_after", mode="before",
    )(parse_duration)
    _ids = field_validator("staff_user_ids", mode="before")(split_ids)
    _database = field_validator("database_url")(project_sqlite_url)

    @field_validator("pacing", "telegram_citizens", mode="before")
    @classmethod
    def _on_off(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in {"on", "off"}:
            return value.strip().lower() == "on"
        return value

    @field_validator("digest_at", mode="before")
    @classmethod
    def _digest_off(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in {"", "off", "none"}:
            return None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        BusinessHours.parse(value)
        return value

    @field_validator(
        "escalation_after", "escalation_check_interval", "escalation_repeat",
        "delivery_give_up_after",
    )
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    @field_validator("telegram_api_url", "vk_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator(
        "organization_site_url", "gosuslugi_feedback_url", "privacy_policy_url"
    )
    @classmethod
    def _optional_link(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or be empty)")
        return value

    @model_validator(mode="after")
    def _platforms(self) -> Settings:
        telegram = bool(self.telegram_token.get_secret_value())
        vk = bool(self.vk_token.get_secret_value())
        if not telegram and not vk:
            raise ValueError("TELEGRAM_TOKEN: set it (or VK_TOKEN): no platform is configured")
        if self.staff_chat_id is None:
            raise ValueError("STAFF_CHAT_ID: required: the Telegram chat where staff work")
        if not telegram:
            raise ValueError(
                "TELEGRAM_TOKEN: required: staff answer from the Telegram staff chat"
            )
        if vk and self.vk_group_id is None:
            raise ValueError("VK_GROUP_ID: required when VK_TOKEN is set")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token.get_secret_value())

    @property
    def vk_enabled(self) -> bool:
        return bool(self.vk_token.get_secret_value())


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line that names it."""


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, or raise SettingsError with one line naming the bad one."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_error(exc)) from None


def describe_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False, include_input=False)[0]
    location = [str(part) for part in error.get("loc", ()) if part != "__root__"]
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    if location:
        name = location[0].upper()
        return f"{name}: {message}"
    return message
