"""TUI tests: the screens, chat, sidebar, help, palette, attachments and snapshots (Pilot and
tmux)."""
