"""The SQL both stores speak: the statements of the desk, written once.

Statements take `?` placeholders and use what SQLite and PostgreSQL both understand (a
subquery in FROM is named, a count of rows is a SUM of CASE); the PostgreSQL store numbers
the placeholders (`$1`, `$2`, …) before it sends them. Times are UNIX seconds in both, so a
desk moves from one to the other value for value.

- `statements`: the three ways a transaction runs a statement, which each store brings;
- `transaction`: the reads and writes of one transaction (`SqlTransaction`), with
  `changes` (what happens to a ticket) and `incidents` (what happens to an incident);
- `connection`: what a store brings to run statements outside a transaction;
- `reads`, `inbox`, `outbox`: the store's own queries on top of it;
- `rows`: how rows read as values.
"""
