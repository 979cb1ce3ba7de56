"""Knowledge: files, knowledge bases, ingest, retrieval and the RAG context of a chat."""
