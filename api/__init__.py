"""The HTTP API (litestar). ``api.app.create_app`` is the one composition root."""
