"""bench/results.md holds only figures measured on a commit, with nothing on top of it."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

import bench.__main__ as bench_main
from bench.incident_storm import IncidentStorm
from bench.report import Results, refusal, render, tree


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    (tmp_path / "desk.py").write_text("x = 1\n")
    (tmp_path / ".gitignore").write_text("data/\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "first")
    return tmp_path


def test_a_clean_commit_is_recorded_by_its_full_hash(repo: Path) -> None:
    measured = tree(repo)
    assert measured.clean and len(measured.commit or "") == 40
    assert measured.describe() == measured.commit
    (repo / "data").mkdir()
    (repo / "data" / "big.sqlite3").write_text("ignored")  # generated stores do not count
    assert refusal(measured, tree(repo)) is None


def test_changed_or_untracked_files_or_a_new_commit_refuse_the_write(repo: Path) -> None:
    (repo / "desk.py").write_text("x = 2\n")
    changed = tree(repo)
    assert "uncommitted changes" in (refusal(changed, changed) or "")
    assert changed.describe().endswith("with uncommitted changes")
    git(repo, "checkout", "-q", "desk.py")
    (repo / "new.py").write_text("y = 1\n")
    untracked = tree(repo)
    assert "uncommitted changes" in (refusal(untracked, untracked) or "")
    (repo / "new.py").unlink()
    before = tree(repo)
    git(repo, "commit", "-q", "--allow-empty", "-m", "second")
    assert refusal(before, tree(repo)) == "the tree changed while the benchmarks ran"


def test_outside_a_git_checkout_nothing_is_written(tmp_path: Path) -> None:
    outside = tree(tmp_path)
    assert outside.commit is None and not outside.clean
    assert "not a git checkout" in (refusal(outside, outside) or "")


def test_make_bench_from_a_dirty_tree_stops_before_measuring(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "desk.py").write_text("x = 3\n")
    monkeypatch.setattr(bench_main, "tree", lambda: tree(repo))
    ran: list[object] = []
    monkeypatch.setattr(bench_main, "run", ran.append)
    before = bench_main.RESULTS.read_bytes()
    assert bench_main.main([]) == 2
    assert ran == [] and bench_main.RESULTS.read_bytes() == before
    assert "not writing results.md: the tree has uncommitted changes" in capsys.readouterr().err


STORM_OF_1000 = IncidentStorm(
    citizens=1000, founders=5, joined=1000, last_ack_s=34.2, card_counted_s=37.0,
    card_count=1005, storm_posts=2, storm_edits=6, answer_posts=1, answer_edits=2,
    answered=1005, answer_s=35.1, progress_shown=True, rejected=0, failed_edits=0,
    pending_at_end=0,
)


def test_incident_storm_rows_state_staff_messages_answer_ratio_and_429s() -> None:
    table = render(Results(incident_storm=STORM_OF_1000))
    staff = "11 (3 posts + 8 edits; during the storm 2 + 6, during the answer 1 + 2)"
    assert f"| {staff} | < 20 | met |" in table
    assert "| 35.1 s = 1.05× the 33.5 s of 30 a second | ≤ 1.1× | met |" in table
    assert "| 0 × 429 | no 429 | met |" in table


def test_an_incident_storm_that_never_answered_everyone_is_missed_not_a_crash() -> None:
    unanswered = replace(STORM_OF_1000, answer_s=None, answered=700, card_counted_s=None,
                         card_count=640, storm_posts=30, pending_at_end=None)
    table = render(Results(incident_storm=unanswered))
    assert "| **only 700 of 1,005 answered** | ≤ 1.1× | **missed** |" in table
    assert "**the card counted 640 of 1,005**" in table and "? staff-chat rows" in table
    assert "| 39 (31 posts + 8 edits;" in table and "| < 20 | **missed** |" in table
