"""Hook implementations of mcpkit_http."""
