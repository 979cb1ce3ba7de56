"""Chats: chats and their message trees, lists and search, folders, tags, shares, message events."""
