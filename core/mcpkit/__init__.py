"""mcpkit: turn HTTP APIs into MCP servers, and mount MCP servers into web apps.

The kernel holds the server, the component model, routing and naming, the client and the plugin
host. OpenAPI and FastAPI conversion and HTTP serving come from plugins (``mcpkit[all]``).
"""

from mcpkit.client import Client, ToolCallResult
from mcpkit.components import Resource, ResourceContent, ResourceTemplate, Tool, ToolResult
from mcpkit.content import Audio, File, Image
from mcpkit.context import Context
from mcpkit.elicitation import AcceptedElicitation, CancelledElicitation, DeclinedElicitation
from mcpkit.exceptions import (
    MCPKitError,
    MissingPluginError,
    PluginError,
    RegistrationError,
    ResourceError,
    SchemaError,
    ToolCallError,
    ToolError,
    UnknownNameError,
)
from mcpkit.plugins import hookimpl
from mcpkit.prompts import Message, Prompt
from mcpkit.routing import MCPType, Route, RouteMap
from mcpkit.server import MCPKit
from mcpkit.settings import Settings

__version__ = "0.1.0"

__all__ = [
    "AcceptedElicitation",
    "Audio",
    "CancelledElicitation",
    "Client",
    "Context",
    "DeclinedElicitation",
    "File",
    "Image",
    "MCPKit",
    "MCPKitError",
    "MCPType",
    "Message",
    "MissingPluginError",
    "PluginError",
    "Prompt",
    "RegistrationError",
    "Resource",
    "ResourceContent",
    "ResourceError",
    "ResourceTemplate",
    "Route",
    "RouteMap",
    "SchemaError",
    "Settings",
    "Tool",
    "ToolCallError",
    "ToolCallResult",
    "ToolError",
    "ToolResult",
    "UnknownNameError",
    "__version__",
    "hookimpl",
]
