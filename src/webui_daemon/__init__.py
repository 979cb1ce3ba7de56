"""webui daemon: Open WebUI's HTTP API for the terminal (importing this package is cheap)."""

__version__ = "0.1.0"
# The Open WebUI release whose API we reproduce; clients read it from /api/version.
OPEN_WEBUI_COMPAT_VERSION = "0.12.4"
