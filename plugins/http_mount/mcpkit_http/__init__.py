"""mcpkit_http: an mcpkit plugin."""
