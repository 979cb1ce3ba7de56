"""The `webui` command (Typer); `main.main` is the entry point."""
