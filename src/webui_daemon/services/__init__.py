"""Use cases of the daemon; they never import fastapi."""
