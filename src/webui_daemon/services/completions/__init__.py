"""Completions: a model's answer (params, system prompt, images, RAG, tools), embeddings, relays."""
