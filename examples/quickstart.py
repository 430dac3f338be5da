"""A small MCP server built from Python functions: the README's quickstart, runnable as is.

python examples/quickstart.py                 # serves over stdio
mcpkit inspect examples.quickstart:mcp        # what it serves
mcpkit dev examples/quickstart.py             # over HTTP, restarted on changes, with the MCP Inspector
"""

from __future__ import annotations

from pydantic import BaseModel

from mcpkit import Context, MCPKit, ToolError

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


@mcp.tool
async def refresh(ctx: Context) -> str:
    """Fetch every city's forecast again, reporting progress."""
    for done, city in enumerate(FORECASTS, start=1):
        await ctx.report_progress(done, len(FORECASTS), f"refreshed {city}")
    return f"{len(FORECASTS)} forecasts refreshed"


@mcp.resource("weather://cities")
def cities() -> list[str]:
    """The cities with a forecast."""
    return sorted(FORECASTS)


@mcp.prompt
def packing_list(city: str) -> str:
    """Ask what to pack for tomorrow in a city."""
    celsius = FORECASTS.get(city.lower())
    weather = f"{celsius} °C" if celsius is not None else "unknown weather"
    return f"Tomorrow brings {weather} in {city}. What should I pack?"


if __name__ == "__main__":
    mcp.run()
