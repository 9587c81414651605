"""Ingestion: turn files (PDF, HTML, Markdown, text, Word) into chunks in the sectorchat index."""
