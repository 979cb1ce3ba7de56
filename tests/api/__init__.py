"""Tests of the daemon's routes that are not chats, knowledge or providers: files, folders,
models, bad input, the OpenAPI document and its fuzzing."""
