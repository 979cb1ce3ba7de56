"""SQLite storage: connection, append-only migrations, repositories (all SQL lives here)."""
