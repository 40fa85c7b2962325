"""Settings: what a deployer writes is understood; a mistake gives one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic.fields import FieldInfo

from bot.settings import Settings, SettingsError, default_words, load_settings

ROOT = Path(__file__).resolve().parent.parent
BASE = {"TELEGRAM_TOKEN": "123456:ABC", "STAFF_CHAT_ID": "-100123"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "VK_", "STAFF_", "ESCALATION_", "DIGEST_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's


def env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in {**BASE, **values}.items():
        monkeypatch.setenv(name, value)


def test_durations_as_deployers_write_them(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, ESCALATION_AFTER="3", ESCALATION_CHECK_INTERVAL="00:01:30",
        ESCALATION_REPEAT="PT2H")
    settings = load_settings()
    assert settings.escalation_after == timedelta(seconds=3)
    assert settings.escalation_check_interval == timedelta(seconds=90)
    assert settings.escalation_repeat == timedelta(hours=2)


def test_defaults_match_readme(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch)
    settings = load_settings()
    assert settings.telegram_api_url == "https://api.telegram.org"
    # In the project's folder, not the working directory (a temporary one here).
    assert settings.database_url == f"sqlite:///{ROOT / 'frontdesk.sqlite3'}"
    assert settings.locale == "ru" and settings.timezone == "Europe/Moscow"
    assert settings.escalation_after == timedelta(hours=8)
    assert settings.pacing is True


def readme_cell(info: FieldInfo) -> str:
    shown = default_words(info)
    if shown == "empty":
        return "—" if str(info.description).startswith("required") else "empty"
    return f"`{shown}`"


def test_readme_table_says_what_the_settings_say() -> None:
    """README's table names every setting once, with the default and meaning of the field."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in section.splitlines() if line.startswith("| `")
    }
    assert set(rows) == {name.upper() for name in Settings.model_fields}
    for name, info in Settings.model_fields.items():
        expected = f"| `{name.upper()}` | {readme_cell(info)} | {info.description} |"
        assert rows[name.upper()] == expected


def example_entries() -> dict[str, tuple[str, str]]:
    """`.env.example` as {NAME: (comment above it, value)}."""
    entries: dict[str, tuple[str, str]] = {}
    comment: list[str] = []
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.startswith("# ---") or not line.strip():
            comment = []
        elif line.startswith("#"):
            comment.append(line.removeprefix("#").strip())
        else:
            name, _, value = line.partition("=")
            entries[name] = (" ".join(comment), value)
            comment = []
    return entries


def test_env_example_says_what_the_settings_say() -> None:
    entries = example_entries()
    assert set(entries) == {name.upper() for name in Settings.model_fields}
    for name, info in Settings.model_fields.items():
        assert entries[name.upper()][0] == info.description, name.upper()


def test_env_example_as_shipped_is_the_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Empty lines mean unset: the example, with the two required values, reads as defaults."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    text = text.replace("\nTELEGRAM_TOKEN=\n", "\nTELEGRAM_TOKEN=123456:ABC\n")
    text = text.replace("\nSTAFF_CHAT_ID=\n", "\nSTAFF_CHAT_ID=-100123\n")
    (tmp_path / ".env").write_text(text, encoding="utf-8")
    settings = load_settings()
    defaults = Settings(_env_file=None, telegram_token="123456:ABC", staff_chat_id=-100123)  # type: ignore[call-arg]
    assert settings == defaults
    assert settings.discussion_chat_id is None and settings.vk_group_id is None


def test_empty_in_the_environment_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, DISCUSSION_CHAT_ID="", ESCALATION_CHAT_ID="", VK_GROUP_ID="",
        ESCALATION_AFTER="", LOCALES_DIR="")
    settings = load_settings()
    assert settings.discussion_chat_id is None and settings.escalation_chat_id is None
    assert settings.escalation_after == timedelta(hours=8)


def test_relative_store_path_is_in_the_project_folder_absolute_as_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env(monkeypatch, DATABASE_URL="sqlite:///data/desk.sqlite3")
    assert load_settings().database_url == f"sqlite:///{ROOT / 'data' / 'desk.sqlite3'}"
    env(monkeypatch, DATABASE_URL=f"sqlite:///{tmp_path / 'desk.sqlite3'}")
    assert load_settings().database_url == f"sqlite:///{tmp_path / 'desk.sqlite3'}"


def test_staff_user_ids_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, STAFF_USER_IDS="5001, 5002")
    assert load_settings().staff_user_ids == [5001, 5002]


def test_pacing_on_off(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, PACING="off")
    assert load_settings().pacing is False


def test_environment_wins_over_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LOCALE=en\nTIMEZONE=Asia/Yekaterinburg\n")
    env(monkeypatch, TIMEZONE="Europe/Samara")
    settings = load_settings()
    assert settings.locale == "en" and settings.timezone == "Europe/Samara"


# Every setting a deployer can get wrong, and the one line that says so.
WRONG = [
    ({"TELEGRAM_TOKEN": ""}, "TELEGRAM_TOKEN: set it (or VK_TOKEN): no platform is configured"),
    ({"TELEGRAM_API_URL": "api.telegram.org"},
     "TELEGRAM_API_URL: must start with http:// or https://"),
    ({"TELEGRAM_CITIZENS": "yes please"},
     "TELEGRAM_CITIZENS: must be on or off, not 'yes please'"),
    ({"STAFF_CHAT_ID": ""}, "STAFF_CHAT_ID: required: the Telegram chat where staff work"),
    ({"STAFF_CHAT_ID": "staff"}, "STAFF_CHAT_ID: must be a whole number, not 'staff'"),
    ({"STAFF_USER_IDS": "ivanova, 5002"},
     "STAFF_USER_IDS: must be whole numbers separated by commas, e.g. 5001,5002"),
    ({"DISCUSSION_CHAT_ID": "@channel"},
     "DISCUSSION_CHAT_ID: must be a whole number, not '@channel'"),
    ({"VK_TOKEN": "vk1.a.secret"}, "VK_GROUP_ID: required when VK_TOKEN is set"),
    ({"VK_TOKEN": "vk1.a.secret", "VK_GROUP_ID": "club1"},
     "VK_GROUP_ID: must be a whole number, not 'club1'"),
    ({"VK_API_URL": "api.vk.ru"}, "VK_API_URL: must start with http:// or https://"),
    ({"TELEGRAM_WEBHOOK_URL": "desk.example.ru/telegram"},
     "TELEGRAM_WEBHOOK_URL: must start with https:// (or be empty)"),
    ({"TELEGRAM_WEBHOOK_URL": "https://desk.example.ru/telegram"},
     "TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL"),
    ({"TELEGRAM_WEBHOOK_SECRET": "not secret!"},
     "TELEGRAM_WEBHOOK_SECRET: must be 1-256 characters of A-Z a-z 0-9 _ -"),
    ({"VK_CALLBACK_CONFIRMATION": "1a2b3c4d"},
     "VK_CALLBACK_CONFIRMATION: set VK_TOKEN and VK_GROUP_ID as well"),
    ({"VK_TOKEN": "vk1.a.secret", "VK_GROUP_ID": "1", "VK_CALLBACK_CONFIRMATION": "1a2b3c4d"},
     "VK_CALLBACK_SECRET: required with VK_CALLBACK_CONFIRMATION"),
    ({"VK_CALLBACK_PATH": "vk"}, "VK_CALLBACK_PATH: must be a path starting with /"),
    ({"WEBHOOK_PORT": "70000"}, "WEBHOOK_PORT: must be at most 65535, not '70000'"),
    ({"LOCALE": "de"}, "LOCALE: must be ru or en, not 'de'"),
    ({"TIMEZONE": "Mars/Olympus"},
     "TIMEZONE: unknown time zone 'Mars/Olympus' (e.g. Europe/Moscow)"),
    ({"ESCALATION_AFTER": "-5"}, "ESCALATION_AFTER: must be longer than zero"),
    ({"ESCALATION_AFTER": "0"}, "ESCALATION_AFTER: must be longer than zero"),
    ({"ESCALATION_AFTER": "-01:00:00"}, "ESCALATION_AFTER: must be longer than zero"),
    ({"ESCALATION_AFTER": "soon"},
     "ESCALATION_AFTER: must be a duration: seconds (60), HH:MM:SS (08:00:00) or ISO 8601 "
     "(PT8H), not 'soon'"),
    ({"BUSINESS_HOURS": "Mon-Fri 18:00-09:00"}, "BUSINESS_HOURS: "),
    ({"ESCALATION_CHECK_INTERVAL": "-1"},
     "ESCALATION_CHECK_INTERVAL: must be longer than zero"),
    ({"ESCALATION_CHAT_ID": "bosses"},
     "ESCALATION_CHAT_ID: must be a whole number, not 'bosses'"),
    ({"ESCALATION_REPEAT": "0"}, "ESCALATION_REPEAT: must be longer than zero"),
    ({"DIGEST_AT": "9am"},
     "DIGEST_AT: must be a time of day, HH:MM (e.g. 09:00), or off, not '9am'"),
    ({"ORGANIZATION_SITE_URL": "ensk.example"},
     "ORGANIZATION_SITE_URL: must start with https:// (or be empty)"),
    ({"GOSUSLUGI_FEEDBACK_URL": "pos.gosuslugi.ru"},
     "GOSUSLUGI_FEEDBACK_URL: must start with https:// (or be empty)"),
    ({"PRIVACY_POLICY_URL": "ensk.example/privacy"},
     "PRIVACY_POLICY_URL: must start with https:// (or be empty)"),
    ({"PACING": "fast"}, "PACING: must be on or off, not 'fast'"),
    ({"DEPARTMENTS_FILE": "/no/such/departments.toml"},
     "DEPARTMENTS_FILE: /no/such/departments.toml: cannot be read: No such file or directory"),
    ({"FLOOD_LIMIT": "0"}, "FLOOD_LIMIT: must be at least 1, not '0'"),
    ({"FLOOD_LIMIT": "many"}, "FLOOD_LIMIT: must be a whole number, not 'many'"),
    ({"DELIVERY_GIVE_UP_AFTER": "0"}, "DELIVERY_GIVE_UP_AFTER: must be longer than zero"),
    ({"INCIDENT_REPORTS": "-1"}, "INCIDENT_REPORTS: must be at least 0, not '-1'"),
    ({"INCIDENT_WINDOW": "0"}, "INCIDENT_WINDOW: must be longer than zero"),
    ({"SHUTDOWN_TIMEOUT": "-3"}, "SHUTDOWN_TIMEOUT: must not be negative"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL: must be DEBUG, INFO, WARNING or ERROR, not 'LOUD'"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT: must be text or json, not 'xml'"),
    ({"METRICS_PORT": "70000"}, "METRICS_PORT: must be at most 65535, not '70000'"),
    ({"REPORT_AT": "monday"},
     "REPORT_AT: must be a time of day, HH:MM (e.g. 09:00), or off, not 'monday'"),
    ({"RETENTION_DAYS": "0"}, "RETENTION_DAYS: must be at least 1, not '0'"),
    ({"PAYLOAD_DAYS": "week"}, "PAYLOAD_DAYS: must be a whole number, not 'week'"),
    ({"PAYLOAD_DAYS": "90"}, "PAYLOAD_DAYS: must be at most 30, not '90'"),
]
# Settings where any text is a valid value here; the store, the texts and the platforms
# check them at start (tests below and in test_startup_checks.py).
ANY_TEXT = {"DUTY_MENTIONS", "DATABASE_URL", "LOCALES_DIR", "VK_TOKEN", "ORGANIZATION_NAME",
            "WEBHOOK_HOST", "METRICS_HOST"}


@pytest.mark.parametrize(("values", "line"), WRONG, ids=[line.split(":")[0] for _, line in WRONG])
def test_wrong_setting_names_itself_in_words(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], line: str
) -> None:
    env(monkeypatch, **values)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(line) and "\n" not in message
    assert "Input should" not in message and "identifier" not in message


def test_every_setting_has_its_wrong_value_named() -> None:
    named = {line.split(":")[0] for _, line in WRONG}
    assert named | ANY_TEXT == {name.upper() for name in Settings.model_fields}


def test_a_token_is_never_shown_in_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, VK_TOKEN="vk1.a.very-secret", VK_GROUP_ID="club1")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "very-secret" not in str(info.value)


def test_a_webhook_secret_is_never_shown_in_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, TELEGRAM_WEBHOOK_SECRET="very-secret but spaced")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "very-secret" not in str(info.value)


def test_webhook_and_callback_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, TELEGRAM_WEBHOOK_URL="https://desk.example.ru/hooks/telegram",
        TELEGRAM_WEBHOOK_SECRET="s3cret_-X", VK_TOKEN="vk1.a.secret", VK_GROUP_ID="-123",
        VK_CALLBACK_CONFIRMATION="1a2b3c4d", VK_CALLBACK_SECRET="key", WEBHOOK_PORT="8443")
    settings = load_settings()
    assert settings.telegram_webhook_path == "/hooks/telegram"
    assert settings.vk_callback and settings.vk_callback_path == "/vk/callback"
    assert (settings.webhook_host, settings.webhook_port) == ("127.0.0.1", 8443)


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ({}, "frontdesk: STAFF_CHAT_ID: required: the Telegram chat where staff work"),
        ({"STAFF_CHAT_ID": "-100", "DATABASE_URL": "mysql://desk@db/desk"},
         "frontdesk: DATABASE_URL: unsupported scheme 'mysql' "
         "(expected sqlite:///path or postgresql://user@host/database)"),
        ({"STAFF_CHAT_ID": "-100", "DATABASE_URL": "postgresql://desk:pw@127.0.0.1:9/desk"},
         "frontdesk: DATABASE_URL: cannot open the PostgreSQL store at "
         "postgresql://desk@127.0.0.1:9/desk: [Errno 111] Connect call failed "
         "('127.0.0.1', 9)"),
        ({"STAFF_CHAT_ID": "-100", "DATABASE_URL": "postgresql://desk:pw@db:abc/desk"},
         "frontdesk: DATABASE_URL: cannot open the PostgreSQL store at postgresql://(a URL "
         "that cannot be read): the URL cannot be read (a port that is no number, an "
         "unclosed [)"),
        ({"STAFF_CHAT_ID": "-100", "DATABASE_URL": "sqlite:////no/such/folder/desk.db"},
         "frontdesk: DATABASE_URL: folder /no/such/folder does not exist"),
        ({"STAFF_CHAT_ID": "-100", "LOCALES_DIR": "/no/such/texts"},
         "frontdesk: LOCALES_DIR: no texts for 'ru' in /no/such/texts/ru"),
    ],
)
def test_a_wrong_start_stops_with_one_line(
    tmp_path: Path, values: dict[str, str], line: str
) -> None:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("TELEGRAM_", "STAFF_", "VK_", "DATABASE_", "LOCALE"))}
    clean["TELEGRAM_TOKEN"] = "123456:SECRET-TOKEN-VALUE"
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path,
        env={**clean, **values, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [line]
    assert "SECRET-TOKEN-VALUE" not in result.stderr + result.stdout


def test_a_mistake_in_the_departments_file_stops_the_start_naming_its_line(
    tmp_path: Path
) -> None:
    rules = tmp_path / "departments.toml"
    rules.write_text('[[department]]\nkey = "roads"\nname = "Дороги"\ntopic = "три"\n'
                     'words = ["яма"]\n', encoding="utf-8")
    result = run_bot(tmp_path, "-m", "bot", TELEGRAM_TOKEN="123456:SECRET", STAFF_CHAT_ID="-100",
                     DEPARTMENTS_FILE=str(rules))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f'frontdesk: DEPARTMENTS_FILE: {rules}, line 4: department "roads": "topic" must be a '
        "positive whole number"
    ]


HEAVY = ("aiogram", "vkbottle", "apscheduler", "fluent", "aiosqlite", "aiohttp", "storage")


def run_bot(tmp_path: Path, *args: str, **values: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("TELEGRAM_", "STAFF_", "VK_", "DATABASE_", "LOCALE",
                                  "ESCALATION_", "DIGEST_"))}
    return subprocess.run(
        [sys.executable, *args], cwd=tmp_path,
        env={**clean, **values, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.mark.parametrize(("values", "line"), WRONG[:6] + WRONG[12:14],
                         ids=[line.split(":")[0] for _, line in WRONG[:6] + WRONG[12:14]])
def test_a_wrong_setting_is_named_before_anything_heavy_is_imported(
    tmp_path: Path, values: dict[str, str], line: str
) -> None:
    """The error line comes before aiogram and the rest are imported (seconds on a small VM)."""
    result = run_bot(tmp_path, "-X", "importtime", "-m", "bot",
                     **{**BASE, "TELEGRAM_TOKEN": "123456:SECRET-TOKEN-VALUE", **values})
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    [error] = [text for text in lines if not text.startswith("import time:")]
    assert error.startswith(f"frontdesk: {line}")
    imported = {
        text.rsplit("|", 1)[1].strip() for text in lines if text.startswith("import time:")
    }
    assert "bot.settings" in imported
    heavy = sorted(m for m in imported if m.split(".")[0] in HEAVY)
    assert heavy == []


def test_help_prints_every_setting_with_its_meaning(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "-m", "bot", "--help")
    assert result.returncode == 0
    said = " ".join(result.stdout.split())
    for name, info in Settings.model_fields.items():
        assert f"{name.upper()} (default: {default_words(info)}) {info.description}" in said


def test_check_exits_2_with_the_line_for_a_wrong_setting(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "-m", "bot", "--check", **{**BASE, "ESCALATION_AFTER": "-5"})
    assert result.returncode == 2
    assert result.stderr.strip() == "frontdesk: ESCALATION_AFTER: must be longer than zero"


def test_an_unknown_argument_is_named(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "-m", "bot", "--chek", **BASE)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "frontdesk: unknown argument '--chek'; see python -m bot --help"
    )


def test_organization_and_its_links_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, ORGANIZATION_NAME="Администрация Энского района",
        ORGANIZATION_SITE_URL="https://ensk.example", PRIVACY_POLICY_URL="",
        GOSUSLUGI_FEEDBACK_URL="https://pos.gosuslugi.ru/landing/")
    settings = load_settings()
    assert settings.organization_name == "Администрация Энского района"
    assert settings.organization_site_url == "https://ensk.example"
    assert settings.gosuslugi_feedback_url == "https://pos.gosuslugi.ru/landing/"
    assert settings.privacy_policy_url == ""


def test_a_link_that_is_not_a_web_address_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, PRIVACY_POLICY_URL="ensk.example/privacy")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == "PRIVACY_POLICY_URL: must start with https:// (or be empty)"
