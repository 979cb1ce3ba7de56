"""Wire models shared by the daemon and its clients: pydantic only."""
