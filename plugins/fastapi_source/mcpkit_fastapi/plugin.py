"""Hook implementations of mcpkit_fastapi."""
