"""mcpkit_fastapi: an mcpkit plugin."""
