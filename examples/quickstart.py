"""A small MCP server built from Python functions: the README's quickstart, runnable as is.

python examples/quickstart.py            # serves over stdio
"""

from __future__ import annotations

from pydantic import BaseModel

from mcpkit import MCPKit, ToolError

mcp = MCPKit("quickstart", version="0.1.0")


class Forecast(BaseModel):
    city: str
    celsius: float


FORECASTS = {"paris": 18.5, "oslo": 4.0}


@mcp.tool
def forecast(city: str) -> Forecast:
    """Tomorrow's temperature for a city."""
    try:
        return Forecast(city=city, celsius=FORECASTS[city.lower()])
    except KeyError:
        raise ToolError(f"no forecast for {city!r}; known cities: {', '.join(FORECASTS)}") from None


@mcp.resource("weather://cities")
def cities() -> list[str]:
    """The cities with a forecast."""
    return sorted(FORECASTS)


if __name__ == "__main__":
    mcp.run()
