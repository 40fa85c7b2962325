"""The ticket store."""

from storage.base import (
    InboxItem,
    Incident,
    IntakeState,
    MessageRecord,
    NewTicket,
    OutboxItem,
    Store,
    StoreError,
    Ticket,
)
from storage.sqlite import SqliteStore


def store_from_url(url: str) -> Store:
    """The store a DATABASE_URL names."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        return SqliteStore.from_url(url, exclusive=True)
    if scheme in ("postgresql", "postgres"):
        from storage.postgres import PgStore  # noqa: PLC0415 (asyncpg only where it is used)

        return PgStore.from_url(url)
    raise StoreError(
        f"DATABASE_URL: unsupported scheme {scheme!r} "
        "(expected sqlite:///path or postgresql://user@host/database)"
    )


__all__ = [
    "InboxItem", "Incident", "IntakeState", "MessageRecord", "NewTicket", "OutboxItem",
    "SqliteStore", "Store", "StoreError", "Ticket", "store_from_url",
]
