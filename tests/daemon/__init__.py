"""Tests of the daemon process itself: start-up and shutdown, signals, the socket, imports at
start, migrations and concurrent writes."""
