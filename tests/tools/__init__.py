"""Tests of tools: function calling relayed, tool servers run by the daemon, the CLI."""
