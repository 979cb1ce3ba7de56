"""Test documents and helpers for the knowledge tests: a small corpus with known answers,
hand-written PDFs, generated DOCX files, uploads and status polling against a real daemon."""
