"""Security primitives: passwords, tokens, API keys, peer credentials, permissions, rate limits."""
