"""Web UI helpers for app.py: answer and source rendering, upload checks (no Gradio objects at import)."""
