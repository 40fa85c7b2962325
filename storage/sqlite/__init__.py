"""The ticket store on SQLite through aiosqlite: one writer connection, WAL, migrations.

- `connection`: opening, the one-writer lock, migrations, transactions;
- `transaction`: the shared statements of a transaction on the one connection;
- `inbox`, `outbox`: what the two queues do their own way on SQLite;
- `store`: `SqliteStore`, all of them together, with the reads outside a transaction;
"""

from storage.sqlite.connection import sqlite_path
from storage.sqlite.store import SqliteStore
from storage.sqlite.transaction import SqliteTransaction

__all__ = ["SqliteStore", "SqliteTransaction", "sqlite_path"]
