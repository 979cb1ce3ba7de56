"""Knowledge: loaders, chunking, embeddings, the vector index and retrieval."""
