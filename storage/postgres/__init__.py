"""The ticket store on PostgreSQL through asyncpg, for a larger deployment.

- `connection`: the pool, migrations (storage/migrations/postgresql), transactions, the
  desk's advisory lock;
- `placeholders`: the desk's `?` statements numbered for PostgreSQL;
- `transaction`: the shared statements of a transaction on one connection;
- `store`: `PgStore`, all of them together.
"""

from storage.postgres.store import PgStore

__all__ = ["PgStore"]
