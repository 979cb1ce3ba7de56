"""SQLite storage: the connection, append-only migrations and the repositories (all SQL lives here)."""
