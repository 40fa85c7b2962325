"""The ticket store on PostgreSQL through asyncpg, for a larger deployment.

- `connection`: the pool, migrations (storage/migrations/postgresql), transactions;
- `sharing`: this desk among the others on the store: alive, and the roles it leads;
- `queues`: the inbox (one desk handles it) and the outbox, sent chat by chat by the desk
  that claimed the chat (`chat_claims`);
- `placeholders`: the desk's `?` statements numbered for PostgreSQL;
- `transaction`: the shared statements of a transaction on one connection;
- `store`: `PgStore`, all of them together.
"""

from storage.postgres.store import PgStore

__all__ = ["PgStore"]
