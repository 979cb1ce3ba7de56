"""TUI tests: help, footer, command palette, attachments, inline mode (Pilot and tmux)."""
