"""The ticket store on SQLite through aiosqlite: one writer connection, WAL, migrations.

- `connection`: opening, the one-writer lock, migrations, transactions;
- `transaction`: the reads and writes of one transaction;
- `inbox`, `outbox`: the two queues' queries;
- `store`: `SqliteStore`, all of them together, with the reads outside a transaction;
- `rows`: how rows read as values.
"""

from storage.sqlite.connection import sqlite_path
from storage.sqlite.store import SqliteStore
from storage.sqlite.transaction import SqliteTransaction

__all__ = ["SqliteStore", "SqliteTransaction", "sqlite_path"]
