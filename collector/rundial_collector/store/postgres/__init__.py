"""The PostgreSQL store (asyncpg): several collectors on one database; all of its SQL lives in
this package. Selected by ``--database-url``; SQLite stays the embedded default."""
