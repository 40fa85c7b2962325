"""deploy/: the Dockerfile, compose.yaml and the systemd units say what the desk really reads.

No Docker engine or systemd runs here, so what can be checked is checked: the units pass
`systemd-analyze verify` where it is installed (and a strict parse everywhere), every
variable they set is a setting the desk has (or one named here, of Python, pip, matplotlib
or PostgreSQL's image) with a value it takes, the Dockerfile installs with the Makefile's
commands, the build context lets in what the image copies and keeps out the tokens and the
store, and the HEALTHCHECK's command asks a real desk's /healthz.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.settings import Settings
from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, TOKEN, installed
from tests.test_crash import bot_env
from tests.test_e2e_telegram import texts_in

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ("frontdesk.service", "frontdesk-backup.service", "frontdesk-backup.timer")
# Variables the files set that are not the desk's settings: Python's, pip's, matplotlib's,
# and those of PostgreSQL's image.
NOT_SETTINGS = {
    "PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PIP_NO_CACHE_DIR", "MPLCONFIGDIR",
}
SHUTDOWN_TIMEOUT = Settings.model_fields["shutdown_timeout"].default.total_seconds()


# --- the systemd units ---------------------------------------------------------------------

def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as systemd reads it, strictly: sections, `Key=value` lines, comments;
    anything else (a line outside a section, no `=`, a continuation) fails the test."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, line in enumerate((DEPLOY / name).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith(("#", ";")):
            continue
        assert not line.endswith("\\"), f"{name}:{number}: a continuation line"
        if re.fullmatch(r"\[[A-Za-z]+\]", line):
            assert line[1:-1] not in sections, f"{name}:{number}: section again"
            current = sections.setdefault(line[1:-1], {})
            continue
        key, equals, value = line.partition("=")
        assert current is not None and equals and re.fullmatch(r"[A-Z][A-Za-z]+", key), \
            f"{name}:{number}: not a Key=value line in a section: {line!r}"
        current.setdefault(key, []).append(value.strip())
    return sections


def one(section: dict[str, list[str]], key: str) -> str:
    [value] = section[key]
    return str(value)


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here; test_the_units_parse_strictly "
                    "still reads them")
    # verify also checks that ExecStart's program exists: the checkout's virtualenv stands in
    # for /opt/frontdesk/.venv.
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(
            text.replace("/opt/frontdesk/.venv/bin/python", sys.executable), encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(f"./{name}" for name in UNITS)], cwd=tmp_path,
        capture_output=True, text=True, timeout=60, check=False,
    )
    # An unknown key or a value systemd cannot read is only a warning ("…, ignoring"): none.
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


def test_the_units_parse_strictly_and_run_the_desk_as_the_makefile_installs_it() -> None:
    desk, backup, timer = (unit(name) for name in UNITS)
    service = desk["Service"]
    folder = one(service, "WorkingDirectory")
    assert one(service, "ExecStart") == f"{folder}/.venv/bin/python -m bot"  # make run's venv
    assert one(service, "Restart") == "on-failure"
    assert one(service, "RestartPreventExitStatus") == "2"  # python -m bot: a wrong setting
    assert one(service, "KillSignal") == "SIGTERM"
    assert float(one(service, "TimeoutStopSec")) > SHUTDOWN_TIMEOUT
    assert one(service, "User") not in ("root", "0")
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert one(service, key) == "yes"
    assert one(service, "ProtectSystem") == "strict"
    # The store's folder is the one writable place, and it is the desk user's own.
    store = Path(sqlite_file(deployment_text(), "/var/lib/"))
    assert str(store.parent) in one(service, "ReadWritePaths").split()
    assert f"/var/lib/{one(service, 'StateDirectory')}" == str(store.parent)
    assert desk["Install"]["WantedBy"] == ["multi-user.target"]

    copy = backup["Service"]
    assert one(copy, "Type") == "oneshot"
    for key in ("User", "Group", "WorkingDirectory", "EnvironmentFile"):
        assert one(copy, key) == one(service, key)
    command = shlex.split(one(copy, "ExecStart"))
    assert command[:2] == ["/bin/sh", "-c"]
    assert shlex.split(command[2])[:5] == ["exec", f"{folder}/.venv/bin/python", "-m", "bot",
                                           "backup"]
    writable = one(copy, "ReadWritePaths").split()
    assert str(store.parent) in writable  # the WAL store's -shm, for the backup's read marks
    backups = shlex.split(command[2])[5].rsplit("/", 1)[0]
    assert backups in writable
    assert one(copy, "ExecStartPost").startswith(f"/usr/bin/find {backups} ")
    assert one(timer["Timer"], "Unit") == "frontdesk-backup.service"
    assert one(timer["Timer"], "Persistent") == "true"
    assert timer["Install"]["WantedBy"] == ["timers.target"]


def deployment_text() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "\n## Deployment\n" in readme
    return readme.split("\n## Deployment\n", 1)[1].split("\n## ", 1)[0]


def sqlite_file(text: str, under: str) -> str:
    """The SQLite file a DATABASE_URL in `text` names under the folder `under`."""
    [path] = set(re.findall(rf"DATABASE_URL=sqlite:///({re.escape(under)}\S+\.sqlite3)", text))
    return str(path)


# --- every variable is a setting -----------------------------------------------------------

def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of deploy/Dockerfile, continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n\s*", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    ))
    found = []
    for line in text.splitlines():
        if line.strip():
            instruction, _, arguments = line.strip().partition(" ")
            found.append((instruction.upper(), arguments.strip()))
    return found


def dockerfile_env() -> dict[str, str]:
    values: dict[str, str] = {}
    for instruction, arguments in dockerfile():
        if instruction == "ENV":
            for word in shlex.split(arguments):
                name, _, value = word.partition("=")
                values[name] = value
    return values


def compose() -> dict[str, Any]:
    read: dict[str, Any] = parse_yaml_subset((DEPLOY / "compose.yaml").read_text(
        encoding="utf-8"))
    return read


def interpolated(value: str) -> str:
    """A value as compose gives it, `${POSTGRES_PASSWORD:?…}` set to a password."""
    return re.sub(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", "Pa55word", value)


def unit_env(name: str) -> dict[str, str]:
    return dict(value.split("=", 1) for value in unit(name)["Service"].get("Environment", []))


def assert_settings(values: dict[str, str], where: str) -> Settings:
    """Every name is a setting (or a known variable of another program), every value one the
    desk takes: the settings built from them, with the two required ones."""
    fields = {name.upper(): name for name in Settings.model_fields}
    unknown = set(values) - set(fields) - NOT_SETTINGS
    assert not unknown, f"{where} sets what the desk does not read: {sorted(unknown)}"
    given: dict[str, Any] = {fields[k]: v for k, v in values.items() if k in fields}
    given = {"telegram_token": TOKEN, "staff_chat_id": STAFF_CHAT, **given}
    return Settings(_env_file=None, **given)


def test_every_variable_the_deployment_files_set_is_a_setting_the_desk_takes() -> None:
    image = assert_settings(dockerfile_env(), "deploy/Dockerfile")
    assert image.database_url == "sqlite:////data/frontdesk.sqlite3"
    assert image.metrics_port is not None and image.metrics_host == "0.0.0.0"
    [volume] = [json.loads(a) if a.startswith("[") else a.split()
                for i, a in dockerfile() if i == "VOLUME"]
    assert str(Path(urlsplit(image.database_url).path[1:]).parent) in volume

    bot = compose()["services"]["bot"]
    environment = {k: interpolated(str(v)) for k, v in bot["environment"].items()}
    assert assert_settings(environment, "deploy/compose.yaml").metrics_port == \
        image.metrics_port
    assert_settings(unit_env("frontdesk.service"), "deploy/frontdesk.service")
    # The units' EnvironmentFile holds the desk's settings; README's example of it is read too.
    lines = re.findall(r"^([A-Z_]+)=(.*)$", deployment_text(), flags=re.MULTILINE)
    assert_settings(dict(lines), "README's Deployment")


# --- the Dockerfile ------------------------------------------------------------------------

def test_the_dockerfile_installs_with_the_makefiles_commands_and_runs_as_make_run() -> None:
    venv = "/app/.venv"
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", f"VENV={venv}", "PYTHON=python",
         "RUN_STAMP=/nonexistent/stamp"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.strip().splitlines()
    install = [line for line in dry if not line.startswith("touch ")][:-1]
    assert install == [
        f"python -m venv {venv}",
        f"{venv}/bin/python -m pip install --quiet --disable-pip-version-check "
        "-c constraints.txt -e .",
    ]
    steps = dockerfile()
    runs = [[part.strip() for part in a.split("&&")] for i, a in steps if i == "RUN"]
    assert install in runs  # one RUN, the same commands in the same order
    assert ("WORKDIR", "/app") in steps
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert dockerfile_env()["PATH"].startswith(f"{venv}/bin:")  # `python` is the venv's
    assert dry[-1] == f"{venv}/bin/python -m bot"
    assert steps[-1] == ("CMD", '["python", "-m", "bot"]')
    assert ("STOPSIGNAL", "SIGTERM") in steps
    [user] = [a for i, a in steps if i == "USER"]
    assert user not in ("root", "0")
    assert [i for i, _ in steps].index("USER") < [i for i, _ in steps].index("CMD")


def dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    """(excludes, pattern) in order: https://docs.docker.com/build/concepts/context/"""
    rules = []
    for raw in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        glob = line.lstrip("!").strip("/")
        pattern = re.escape(glob).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*") \
            .replace(r"\?", "[^/]")
        rules.append((excludes, re.compile(pattern)))
    return rules


def in_context(path: str) -> bool:
    """Whether the build context holds `path`: the last rule matching it, or a folder it is
    in, decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    kept = True
    for excludes, pattern in dockerignore():
        if any(pattern.fullmatch(c) for c in candidates):
            kept = not excludes
    return kept


def test_the_build_context_holds_what_the_image_copies_and_no_secret_or_store() -> None:
    copied = [shlex.split(a)[:-1] for i, a in dockerfile() if i == "COPY"]
    sources = [source.rstrip("/") for group in copied for source in group]
    with (ROOT / "pyproject.toml").open("rb") as file:
        import tomllib  # noqa: PLC0415
        project = tomllib.load(file)
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]
                ["include"]]
    assert set(packages) | {"locales", "pyproject.toml", "constraints.txt", "README.md"} \
        <= set(sources)
    assert project["project"]["requires-python"] == ">=3.11"  # the image's Python
    for source in sources:
        assert (ROOT / source).exists(), source
        assert in_context(source), source
    assert in_context("bot/settings.py") and in_context("locales/ru/frontdesk.ftl")
    for kept_out in (".env", "frontdesk.sqlite3", "frontdesk.sqlite3-wal",
                     "frontdesk.sqlite3.lock", "backups/desk.sqlite3", ".venv/bin/python",
                     ".git/config", "bot/__pycache__/app.cpython-311.pyc", "tests/harness.py"):
        assert not in_context(kept_out), kept_out


# --- compose.yaml --------------------------------------------------------------------------

def parse_yaml_subset(text: str) -> Any:
    """The block YAML compose.yaml is written in: mappings, `- ` lists, plain, quoted and
    [flow] scalars, whole-line comments. Anything else fails, so the file stays this simple."""
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        assert "\t" not in raw and " #" not in raw, f"compose.yaml:{number}: {raw!r}"
        lines.append((len(raw) - len(raw.lstrip()), raw.strip()))
    value, end = _block(lines, 0, 0)
    assert end == len(lines), f"compose.yaml: stray line {lines[end]}"
    return value


def _scalar(text: str) -> Any:
    if text.startswith(('"', "[")):
        return json.loads(text)
    return int(text) if text.isdigit() else text


def _block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    if lines[i][1].startswith("- "):
        items = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            items.append(_scalar(lines[i][1][2:]))
            i += 1
        return items, i
    mapping: dict[str, Any] = {}
    while i < len(lines) and lines[i][0] == indent:
        key, _, rest = lines[i][1].partition(":")
        assert key not in mapping and (rest == "" or rest.startswith(" ")), lines[i]
        i += 1
        if rest.strip():
            mapping[key] = _scalar(rest.strip())
        elif i < len(lines) and lines[i][0] > indent:
            mapping[key], i = _block(lines, i, lines[i][0])
        else:
            mapping[key] = None
    assert i == len(lines) or lines[i][0] < indent, f"compose.yaml: indentation at {lines[i]}"
    return mapping, i


def test_compose_runs_the_image_on_postgresql_15_once_it_is_ready() -> None:
    services = compose()["services"]
    bot, db = services["bot"], services["db"]
    assert (ROOT / bot["build"]["context"].replace("..", ".") / bot["build"]["dockerfile"]) \
        .resolve() == DEPLOY / "Dockerfile"
    assert bot["env_file"] == "../.env" and (DEPLOY / bot["env_file"]).resolve() == \
        ROOT / ".env"
    url = urlsplit(interpolated(bot["environment"]["DATABASE_URL"]))
    assert url.scheme == "postgresql" and url.hostname == "db" and url.port == 5432
    assert url.username == db["environment"]["POSTGRES_USER"]
    assert url.password == interpolated(db["environment"]["POSTGRES_PASSWORD"])
    assert url.path == "/" + db["environment"]["POSTGRES_DB"]
    assert bot["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert db["image"] == "postgres:15"
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    [volume] = db["volumes"]
    assert volume.split(":")[1] == "/var/lib/postgresql/data"
    assert volume.split(":")[0] in compose()["volumes"]  # a named volume
    for service in (bot, db):
        assert service["restart"] in ("unless-stopped", "always", "on-failure")
    assert float(bot["stop_grace_period"].removesuffix("s")) > SHUTDOWN_TIMEOUT
    assert [port.rsplit(":", 1)[1] for port in bot["ports"]] == \
        [bot["environment"]["METRICS_PORT"]]
    assert all(port.startswith("127.0.0.1:") for port in bot["ports"])  # not the internet


def test_compose_yaml_reads_the_same_with_a_yaml_parser() -> None:
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        pytest.skip("PyYAML is not installed (not a dependency of Frontdesk); "
                    "test_compose_runs_the_image_on_postgresql_15_once_it_is_ready read the "
                    "file with the strict subset parser")
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(text) == parse_yaml_subset(text)


# --- the HEALTHCHECK against a real desk ---------------------------------------------------

def healthcheck_command() -> list[str]:
    [arguments] = [a for i, a in dockerfile() if i == "HEALTHCHECK"]
    options, _, command = arguments.partition(" CMD ")
    assert "--interval=" in options and "--timeout=" in options
    exec_form: list[str] = json.loads(command)
    assert exec_form[0] == "python"  # the venv's, by the image's PATH
    return [sys.executable, *exec_form[1:]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def probe(env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    process = await asyncio.create_subprocess_exec(
        *healthcheck_command(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    return subprocess.CompletedProcess([], process.returncode or 0, out, err)


async def test_the_healthcheck_command_asks_a_real_desks_healthz(
    tg: FakeTelegram, tmp_path: Path,
) -> None:
    if not (ROOT / "bot" / "metrics.py").exists():
        pytest.skip("bot/metrics.py (/healthz) is not part of this checkout")
    db = tmp_path / "desk.sqlite3"
    await installed(db)
    port = str(free_port())
    env = bot_env(tg, db) | {"METRICS_PORT": port, "METRICS_HOST": "127.0.0.1",
                             "LOG_LEVEL": "INFO"}
    log = tmp_path / "bot.log"
    with log.open("wb") as sink:
        desk = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdout=sink, stderr=sink,
        )
    check_env = {**os.environ, "METRICS_PORT": port}
    try:
        tg.push_update(tg.private_text(7_300_001, "Проверка"))
        await tg.wait_for(lambda: desk.returncode is not None or texts_in(tg, 7_300_001),
                          timeout=60)
        assert desk.returncode is None, log.read_text(encoding="utf-8")
        # Docker's start period: the desk has started when it answered; /healthz says so.
        healthy = await probe(check_env)
        for _ in range(20):
            if healthy.returncode == 0:
                break
            await asyncio.sleep(0.5)
            healthy = await probe(check_env)
        assert healthy.returncode == 0, healthy.stderr.decode()
        # A 503 is unhealthy too: the store's file removed under the running desk.
        db.unlink()
        sick = await probe(check_env)
        for _ in range(20):
            if sick.returncode != 0:
                break
            await asyncio.sleep(0.5)
            sick = await probe(check_env)
        assert sick.returncode == 1 and b"HTTP Error 503" in sick.stderr, sick.stderr.decode()
    finally:
        if desk.returncode is None:
            desk.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(desk.wait(), timeout=30)
    assert code == 0, log.read_text(encoding="utf-8")
    gone = await probe(check_env)
    assert gone.returncode == 1 and b"Connection refused" in gone.stderr


def test_the_backup_units_cleanup_removes_old_copies_and_partial_ones_only(
    tmp_path: Path,
) -> None:
    find = shutil.which("find")
    if find is None:
        pytest.skip("no find here")
    command = shlex.split(one(unit("frontdesk-backup.service")["Service"], "ExecStartPost"))
    assert command[:2] == ["/usr/bin/find", "/var/backups/frontdesk"]
    month_ago = time.time() - 31 * 86400
    names = ("frontdesk-2026-10-01-0330.sqlite3", ".frontdesk-2026-10-02-0330.sqlite3."
             "ab12.partial", "frontdesk-2026-12-04-0330.sqlite3", "notes.txt")
    for name in names:
        (tmp_path / name).write_text("x")
    for name in (*names[:2], names[3]):
        os.utime(tmp_path / name, (month_ago, month_ago))
    subprocess.run([find, str(tmp_path), *command[2:]], check=True, timeout=30)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[2:])
