"""Tests of model providers: connections, the lean transport, routing across nodes, fair
scheduling, Ollama administration and embeddings passthrough."""
