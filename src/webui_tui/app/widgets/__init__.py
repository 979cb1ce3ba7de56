"""Widgets: they show state and post messages up; they never call the client."""
