"""mcpkit_fastapi: MCP servers from FastAPI apps, called in-process (an mcpkit plugin).

``MCPKit.from_fastapi(app=app, **options)`` is the entry point (see :mod:`mcpkit_fastapi.source`);
docs/fastapi.md describes every option.
"""
