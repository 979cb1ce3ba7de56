"""Turns: server-side answers streamed into chats; task completions (titles, tags, follow-ups)."""
