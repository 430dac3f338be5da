"""Hook implementations of mcpkit_openapi."""
