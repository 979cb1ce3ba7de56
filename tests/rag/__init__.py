"""Tests of the knowledge worker process: memory, crashes, concurrency."""
