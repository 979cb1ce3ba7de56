"""Tests of chats and turns: the chat routes and service, the message tree, search, isolation,
server-side turns and their recovery, completions and streaming."""
