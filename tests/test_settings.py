"""Settings: what a deployer writes is understood; a mistake gives one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

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
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in type(settings).model_fields:
        assert f"`{name.upper()}`" in readme, f"{name.upper()} is not in README"
        assert f"\n{name.upper()}=" in example, f"{name.upper()} is not in .env.example"


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


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"STAFF_CHAT_ID": "staff"}, "STAFF_CHAT_ID"),
        ({"ESCALATION_AFTER": "soon"}, "ESCALATION_AFTER"),
        ({"ESCALATION_AFTER": "0"}, "ESCALATION_AFTER"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"LOCALE": "de"}, "LOCALE"),
        ({"BUSINESS_HOURS": "Mon-Fri 18:00-09:00"}, "BUSINESS_HOURS"),
        ({"TELEGRAM_API_URL": "api.telegram.org"}, "TELEGRAM_API_URL"),
        ({"VK_TOKEN": "vk1.a.secret"}, "VK_GROUP_ID"),
        ({"TELEGRAM_TOKEN": ""}, "TELEGRAM_TOKEN"),
    ],
)
def test_wrong_setting_names_itself(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], named: str
) -> None:
    env(monkeypatch, **values)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"{named}:") and "\n" not in message


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ({}, "frontdesk: STAFF_CHAT_ID: required: the Telegram chat where staff work"),
        ({"STAFF_CHAT_ID": "-100", "DATABASE_URL": "postgresql://desk@db/desk"},
         "frontdesk: DATABASE_URL: unsupported scheme 'postgresql' (expected sqlite:///path)"),
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
