"""The Textual terminal UI: `app` → `screens` → `widgets` (imported only by `webui tui`)."""
