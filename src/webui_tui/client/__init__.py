"""Typed async client for a webui daemon or an Open WebUI server (see `api.WebUIClient`)."""
