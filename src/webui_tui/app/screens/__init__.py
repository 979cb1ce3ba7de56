"""Screens: each starts the async workers that call the client and feeds its widgets."""
