"""mcpkit's fixtures for plugin authors: mcpkit_plugins, mcpkit_server and mcpkit_client."""

pytest_plugins = ["mcpkit.testing"]
