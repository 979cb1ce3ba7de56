"""Workspace features: prompts, memories and notes."""
