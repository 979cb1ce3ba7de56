"""webui front ends: the typed client, the `webui` command and (later) the terminal UI."""
