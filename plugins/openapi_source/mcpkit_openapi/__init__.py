"""mcpkit_openapi: an mcpkit plugin."""
