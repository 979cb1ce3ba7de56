"""Tests of daily use: settings that never go stale, errors that name the cause, output."""
