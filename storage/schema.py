"""Whether a store's schema is this version's: for the readers, which never migrate."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources


def migrations(subfolder: str = "") -> set[int]:
    """The versions of the migrations this version of Frontdesk has (`postgresql` for its)."""
    folder = resources.files("storage") / "migrations"
    if subfolder:
        folder = folder / subfolder
    return {int(p.name.split("_", 1)[0]) for p in folder.iterdir() if p.name.endswith(".sql")}


def behind(location: str, applied: Iterable[int], subfolder: str = "") -> str | None:
    """The line for a store that misses some of this version's migrations, else None: a
    reader would fail on a table or column it does not have yet."""
    missing = sorted(migrations(subfolder) - set(applied))
    if not missing:
        return None
    return (f"DATABASE_URL: the store at {location} is older than this version of Frontdesk "
            f"(migration {missing[0]:04d} not applied yet); start the desk once, which brings "
            "it up to date, and run this again")
