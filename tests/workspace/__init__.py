"""Tests of the workspace features (memories, ...)."""
