"""Model providers: Ollama and OpenAI-compatible upstreams, routing, stream conversion."""
