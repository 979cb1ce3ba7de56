"""Workspace features of a user: memories (and, as they come, prompts and notes)."""
