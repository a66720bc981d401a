"""The database: Tortoise ORM models, set-up and migrations. Everything above imports from here."""

# Model docstrings and `#:` comments become SQL comments in migrations: keep semicolons out of them
# (tortoise splits the SQLite migration script on `;`).
