"""Models: the model list and its access, presets, provider connections and Ollama's model admin."""
