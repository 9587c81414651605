"""sectorchat core library: settings, types, embeddings and the chunk store (imports nothing from ingest/evals/app)."""
