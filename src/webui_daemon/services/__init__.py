"""Use cases of the daemon, one package per domain (errors, access: shared); never fastapi."""
