"""Settings from the environment and `.env`; the environment wins.

This module is read before anything heavy is imported (no aiogram, vkbottle, APScheduler or
Fluent), so a wrong setting is reported within a second. Each field's description is its one
meaning: `python -m bot --help`, README's settings table and `.env.example` say the same.
"""

from __future__ import annotations

import re
import textwrap
from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from handlers.calendar import BusinessHours

if TYPE_CHECKING:
    from handlers.routing import Rules

# The project's folder (the checkout, where pyproject.toml is): a relative store path is
# taken from here, not from wherever the desk happens to be started.
_CHECKOUT = Path(__file__).resolve().parent.parent
PROJECT_DIR = _CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else Path.cwd()

_DURATION = re.compile(r"^(-)?(?:(\d+):)?(\d{1,2}):(\d{1,2})$")
_SECONDS = re.compile(r"^[-+]?\d+$")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")

STAFF_CHAT_MEANING = "the Telegram chat where staff work"


def parse_duration(value: Any) -> Any:
    """Seconds as the environment gives them ("3"), `HH:MM:SS`, or ISO 8601 for pydantic."""
    if isinstance(value, str):
        text = value.strip()
        if _SECONDS.match(text):
            return timedelta(seconds=int(text))
        match = _DURATION.match(text)
        if match:
            sign = -1 if match.group(1) else 1
            hours, minutes, seconds = (int(g or 0) for g in match.groups()[1:])
            return sign * timedelta(hours=hours, minutes=minutes, seconds=seconds)
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
    """Every setting Frontdesk reads. A description is what --help, README and .env.example say.

    An empty value (`DISCUSSION_CHAT_ID=` as `.env.example` ships it) means unset: the
    default applies, so the example file works as it is.
    """

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False,
        env_ignore_empty=True,
    )

    telegram_token: SecretStr = Field(
        SecretStr(""),
        description="required: the bot token from @BotFather; staff work in Telegram",
    )
    telegram_api_url: str = Field(
        "https://api.telegram.org",
        description="Bot API server: Telegram's own, or a self-hosted Bot API server",
    )
    telegram_citizens: bool = Field(
        True, description="on: citizens may write to the bot; off: citizens use VK only "
        "and the bot serves the staff chat",
    )
    staff_chat_id: int = Field(
        description=f"required: {STAFF_CHAT_MEANING}, a group or supergroup id "
        "(negative, e.g. -1001234567890)",
    )
    staff_user_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="optional: only these Telegram user ids may answer, "
        "close and block (comma separated, e.g. 5001,5002); anonymous administrators of the "
        "staff chat count as listed",
    )
    discussion_chat_id: int | None = Field(
        None, description="optional: the discussion group of the administration's channel; "
        "comments there open tickets",
    )

    vk_token: SecretStr = Field(
        SecretStr(""), description="VK community token (messages, wall, photos, docs, "
        "manage); empty turns VK off",
    )
    vk_group_id: int | None = Field(
        None, description="the VK community id (a positive number); required with VK_TOKEN"
    )
    vk_api_url: str = Field("https://api.vk.ru/method/", description="base URL of VK API methods")

    telegram_webhook_url: str = Field(
        "", description="optional: the address Telegram posts updates to (e.g. "
        "https://desk.example.ru/telegram), passed on by a reverse proxy to "
        "WEBHOOK_HOST:WEBHOOK_PORT with the same path; empty: long polling",
    )
    telegram_webhook_secret: SecretStr = Field(
        SecretStr(""), description="the secret Telegram sends with every update, 1-256 "
        "characters A-Z a-z 0-9 _ -; required with TELEGRAM_WEBHOOK_URL",
    )
    vk_callback_confirmation: str = Field(
        "", description="optional: the string the community's Callback API settings ask the "
        "server to return; set, VK events come by Callback API to VK_CALLBACK_PATH and Long "
        "Poll is not used",
    )
    vk_callback_secret: SecretStr = Field(
        SecretStr(""), description="the secret key set in the community's Callback API "
        "settings; required with VK_CALLBACK_CONFIRMATION",
    )
    vk_callback_path: str = Field(
        "/vk/callback", description="the path VK posts Callback API events to, on "
        "WEBHOOK_HOST:WEBHOOK_PORT behind the reverse proxy",
    )
    webhook_host: str = Field(
        "127.0.0.1", description="the address the webhook and Callback API server listens on "
        "(the reverse proxy in front of it takes HTTPS)",
    )
    webhook_port: int = Field(
        8080, ge=1, le=65535, description="the port of the webhook and Callback API server",
    )

    database_url: str = Field(
        "sqlite:///frontdesk.sqlite3", description="the ticket store: a SQLite file, "
        "sqlite:///relative/path in the project's folder (where pyproject.toml is), "
        "whatever the working directory, sqlite:////absolute/path for another place; or a "
        "PostgreSQL database, postgresql://user:password@host:5432/database (the password "
        "is never logged). Where it is is logged at every start, a store created anew is "
        "announced in the staff chat. One bot process per SQLite file; several may share a "
        "PostgreSQL store",
    )
    locale: Literal["ru", "en"] = Field("ru", description="language of the texts: ru or en")
    locales_dir: str = Field(
        "", description="optional: a folder with your own texts (LOCALES_DIR/ru/*.ftl); "
        "empty: the texts that come with Frontdesk",
    )
    departments_file: str = Field(
        "", description="optional: the departments' rules file (TOML; see "
        "docs/departments.example.toml): where each department's cards go and the words that "
        "route a message there; a relative path is in the project's folder; empty: every card "
        "goes to the staff chat",
    )
    incident_reports: int = Field(
        default=5, ge=0, description="alike messages within INCIDENT_WINDOW that make staff a "
        "suggestion to merge them into one incident (one card, one answer to all); 0: off",
    )
    incident_window: timedelta = Field(
        timedelta(hours=3), description="how far back a new message is compared with others "
        "for incidents (seconds or HH:MM:SS)",
    )
    timezone: str = Field(
        "Europe/Moscow", description="time zone of the administration: deadlines and digests "
        "are in local time",
    )

    escalation_after: timedelta = Field(
        timedelta(hours=8), description="expected first-answer time, in working time: "
        "seconds, HH:MM:SS or ISO 8601 (PT8H)",
    )
    business_hours: str = Field(
        "Mon-Fri 09:00-18:00", description="working hours, e.g. Mon-Fri 09:00-18:00 or "
        "Mon-Thu 09:00-18:00, Fri 09:00-16:45; Russia's public holidays, transferred days off "
        "and shortened pre-holiday days apply; 24/7 turns the calendar off",
    )
    escalation_check_interval: timedelta = Field(
        timedelta(seconds=60), description="how often the escalation sweep runs "
        "(seconds or HH:MM:SS)",
    )
    escalation_chat_id: int | None = Field(
        None, description="optional: supervisors' chat for level 2 and above "
        "(replies there work as in the staff chat); empty: the staff chat",
    )
    escalation_repeat: timedelta = Field(
        timedelta(hours=8), description="after the top level, escalate again this often "
        "(working time)",
    )
    duty_mentions: str = Field(
        "", description="optional: mentions of the people on duty added to level 1, "
        "e.g. @ivanova @petrov",
    )
    digest_at: time | None = Field(
        time(9, 0), description="daily digest time on working days (HH:MM), or off"
    )

    organization_name: str = Field(
        "", description="the administration as citizens know it: named in the greeting and as "
        "the operator of personal data, e.g. Администрация Энского района",
    )
    organization_site_url: str = Field(
        "", description="optional: the official site, linked in the greeting"
    )
    gosuslugi_feedback_url: str = Field(
        "", description="optional: the administration's page on «Госуслуги. Решаем вместе», "
        "linked in the greeting",
    )
    privacy_policy_url: str = Field(
        "", description="optional: the personal data policy, linked from the greeting's data "
        "notice",
    )

    pacing: bool = Field(
        True, description="on: keep within the platforms' rate limits; off only against "
        "local test servers",
    )
    flood_limit: int = Field(
        default=20, ge=1, description="messages a minute from one citizen before they are "
        "asked to slow down",
    )
    delivery_give_up_after: timedelta = Field(
        timedelta(hours=24), description="how long a message to a citizen is retried through "
        "temporary errors (an outage of the platform) before staff are told it did not arrive "
        "(seconds or HH:MM:SS); staff-side messages are never given up",
    )
    shutdown_timeout: timedelta = Field(
        timedelta(seconds=10), description="on SIGTERM, how long the sender may drain the "
        "outbox (seconds)",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="DEBUG, INFO, WARNING or ERROR; tokens and citizens' messages "
        "are never logged",
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="text: one readable line an entry; json: one JSON object a line, "
        "for log shippers (the same redaction)",
    )

    metrics_port: int | None = Field(
        None, ge=1, le=65535, description="optional: the port of /metrics (Prometheus) and "
        "/healthz; empty: off",
    )
    metrics_host: str = Field(
        "127.0.0.1", description="the address /metrics and /healthz listen on; 0.0.0.0 "
        "only behind a firewall that keeps them from the internet",
    )
    report_at: time | None = Field(
        time(9, 30), description="the weekly report to the supervisors' chat (the staff chat "
        "without ESCALATION_CHAT_ID) on the first working day of the week at HH:MM, or off",
    )
    retention_days: int = Field(
        1095, ge=1, description="days after closing before a ticket's personal data (texts, "
        "names, platform ids, files) is removed and only its figures stay; 1095 = three "
        "years, the general limitation period for claims (Civil Code art. 196)",
    )
    payload_days: int = Field(
        7, ge=1, le=30, description="days the raw updates of the inbox and the texts of sent "
        "messages in the outbox are kept for investigating a fault, then removed (at most 30, "
        "so that a citizen's request to remove their data is carried out within the 30 days "
        "of 152-FZ art. 21)",
    )

    _durations = field_validator(
        "escalation_after", "escalation_check_interval", "escalation_repeat",
        "shutdown_timeout", "delivery_give_up_after", "incident_window", mode="before",
    )(parse_duration)
    _ids = field_validator("staff_user_ids", mode="before")(split_ids)
    _database = field_validator("database_url")(project_sqlite_url)

    @field_validator("pacing", "telegram_citizens", mode="before")
    @classmethod
    def _on_off(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in {"on", "off"}:
            return value.strip().lower() == "on"
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("digest_at", "report_at", mode="before")
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
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Moscow)") from exc
        return value

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        BusinessHours.parse(value)
        return value

    @field_validator(
        "escalation_after", "escalation_check_interval", "escalation_repeat",
        "delivery_give_up_after", "incident_window",
    )
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    @field_validator("shutdown_timeout")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must not be negative")
        return value

    @field_validator("telegram_api_url", "vk_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr) -> SecretStr:
        # https://core.telegram.org/bots/api#setwebhook: secret_token, "1-256 characters.
        # Only characters A-Z, a-z, 0-9, _ and - are allowed."
        text = value.get_secret_value()
        if text and not _WEBHOOK_SECRET.fullmatch(text):
            raise ValueError("must be 1-256 characters of A-Z a-z 0-9 _ - (as Telegram allows)")
        return value

    @field_validator("vk_callback_path")
    @classmethod
    def _path(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith("/") or any(c.isspace() or c in "?#" for c in value):
            raise ValueError("must be a path starting with /, e.g. /vk/callback")
        return value

    # A self-hosted Bot API server may post a webhook to plain http; Telegram's own wants https.
    @field_validator(
        "organization_site_url", "gosuslugi_feedback_url", "privacy_policy_url",
        "telegram_webhook_url",
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
        if not telegram:
            raise ValueError(
                "TELEGRAM_TOKEN: required: staff answer from the Telegram staff chat"
            )
        if vk and self.vk_group_id is None:
            raise ValueError("VK_GROUP_ID: required when VK_TOKEN is set")
        return self._pushed()

    def _pushed(self) -> Settings:
        """The webhook and the Callback API: each needs its secret, and a path of its own."""
        if self.telegram_webhook_url and not self.telegram_webhook_secret.get_secret_value():
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL (1-256 characters "
                "of A-Z a-z 0-9 _ -)"
            )
        if not self.vk_callback_confirmation:
            return self
        if not self.vk_enabled:
            raise ValueError("VK_CALLBACK_CONFIRMATION: set VK_TOKEN and VK_GROUP_ID as well")
        if not self.vk_callback_secret.get_secret_value():
            raise ValueError(
                "VK_CALLBACK_SECRET: required with VK_CALLBACK_CONFIRMATION: set the same "
                "secret key in the community's Callback API settings"
            )
        if self.telegram_webhook_url and self.telegram_webhook_path == self.vk_callback_path:
            raise ValueError("VK_CALLBACK_PATH: must differ from the path of "
                             "TELEGRAM_WEBHOOK_URL")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def vk_enabled(self) -> bool:
        return bool(self.vk_token.get_secret_value())

    @property
    def telegram_webhook_path(self) -> str:
        """Where on this server Telegram's posts arrive: the path of TELEGRAM_WEBHOOK_URL."""
        return urlsplit(self.telegram_webhook_url).path or "/"

    @property
    def vk_callback(self) -> bool:
        return bool(self.vk_enabled and self.vk_callback_confirmation)


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line that names it."""


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, or raise SettingsError with one line naming the bad one."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_error(exc)) from None
    if settings.departments_file:
        # Read now, so a mistake in the file stops the start at once, named with its line.
        departments(settings)
    return settings


def departments(settings: Settings) -> Rules | None:
    """The departments of DEPARTMENTS_FILE, or None without one; SettingsError names the
    file, the line and what is wrong."""
    if not settings.departments_file:
        return None
    from handlers.routing import RulesError, load_rules  # noqa: PLC0415 - only when set

    try:
        path = Path(settings.departments_file).expanduser()
        return load_rules(path if path.is_absolute() else PROJECT_DIR / path)
    except RulesError as exc:
        raise SettingsError(f"DEPARTMENTS_FILE: {exc}") from None


# What is wrong, in words, for pydantic's error types a deployer can cause.
_DURATION_WORDS = "must be a duration: seconds (60), HH:MM:SS (08:00:00) or ISO 8601 (PT8H)"
_WORDS_BY_TYPE = {
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_parsing": "must be on or off",
    "time_parsing": "must be a time of day, HH:MM (e.g. 09:00), or off",
    "time_type": "must be a time of day, HH:MM (e.g. 09:00), or off",
    "time_delta_parsing": _DURATION_WORDS,
    "time_delta_type": _DURATION_WORDS,
    "list_type": "must be a comma separated list of whole numbers, e.g. 5001,5002",
}
_SECRET_FIELDS = frozenset(
    {"telegram_token", "vk_token", "telegram_webhook_secret", "vk_callback_secret"}
)
_MISSING_WORDS = {"staff_chat_id": f"required: {STAFF_CHAT_MEANING}"}


def _words(error: ErrorDetails) -> str:
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind == "literal_error":
        return "must be " + str(context.get("expected", "")).replace("'", "")
    if kind == "int_parsing" and len(error.get("loc", ())) > 1:
        return "must be whole numbers separated by commas, e.g. 5001,5002"
    if kind in _WORDS_BY_TYPE:
        return _WORDS_BY_TYPE[kind]
    if kind == "greater_than_equal":
        return f"must be at least {context.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {context.get('le')}"
    if kind == "missing":
        return _MISSING_WORDS.get(str(error.get("loc", ("",))[0]), "required")
    return str(error.get("msg", "invalid value")).removeprefix("Value error, ")


def describe_error(exc: ValidationError) -> str:
    """The first error as one line: `NAME: what is wrong` (a token's value is never shown)."""
    error = exc.errors(include_url=False)[0]
    location = [str(part) for part in error.get("loc", ()) if part != "__root__"]
    message = _words(error)
    if not location:
        return message
    field = location[0]
    given = error.get("input")
    if (
        field not in _SECRET_FIELDS and isinstance(given, str) and given.strip()
        and message != str(error.get("msg", "")).removeprefix("Value error, ")
    ):
        shown = given if len(given) <= 40 else given[:40] + "…"
        message = f"{message}, not {shown!r}"
    return f"{field.upper()}: {message}"


def default_words(info: FieldInfo) -> str:
    """A field's default as a deployer writes it: `08:00:00`, `on`, `empty`."""
    if info.is_required():
        return "empty"  # as .env.example ships it, to be filled in
    value = info.get_default(call_default_factory=True)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        if seconds < 3600:
            return str(seconds)
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if value is None or value in ("", []):
        return "empty"
    return str(value)


def settings_help() -> str:
    """Every setting with its default and meaning: what `python -m bot --help` prints."""
    lines = []
    for name, info in Settings.model_fields.items():
        lines.append(f"  {name.upper()}  (default: {default_words(info)})")
        lines.extend(textwrap.wrap(
            str(info.description), width=92, initial_indent=" " * 6, subsequent_indent=" " * 6
        ))
    return "\n".join(lines)
