"""Tests of the daemon answering Open WebUI 0.12.4's shapes (issue 12 part 2)."""
