"""Tests of WebUIClient, the CLI's and TUI's HTTP client."""
