"""The test suite, grouped by what it tests: api, auth, chat, cli, client, compat, contract,
daemon, daily, media, providers, rag, tools, tui, workspace. Daemons come from one factory
(tests/daemons.py); helpers used across packages stay here at the top level."""
