"""Tests of the `webui` command line, run in subprocesses against real daemons."""
