"""The MCP server the gateway proxies: a notebook whose tools log, report progress, ask the user and
the client's model. The gateway example serves it over HTTP; ``python -m examples.gateway.notes``
serves it over stdio."""

from __future__ import annotations

from mcpkit import AcceptedElicitation, Context, MCPKit, ResourceError, ToolError


def create_server() -> MCPKit:
    """A new notebook server, its notes in memory."""
    notes: dict[int, str] = {}
    mcp = MCPKit("notes", instructions="A notebook: write, read, delete and summarise notes.")

    @mcp.tool
    async def add_note(text: str, ctx: Context) -> int:
        """Write a note down; returns its number."""
        number = max(notes, default=0) + 1
        await ctx.info(f"writing note {number}")
        notes[number] = text
        await ctx.report_progress(1, 1, "saved")
        return number

    @mcp.tool
    async def delete_note(number: int, ctx: Context) -> str:
        """Delete a note once the user confirms."""
        if number not in notes:
            raise ToolError(f"there is no note {number}")
        answer = await ctx.elicit(f"Delete note {number} ({notes[number]!r})?", bool)
        if not (isinstance(answer, AcceptedElicitation) and answer.data):
            return f"note {number} kept"
        del notes[number]
        return f"note {number} deleted"

    @mcp.tool
    async def summarize_notes(ctx: Context) -> str:
        """A one-line summary of every note, written by the client's language model."""
        listing = "\n".join(f"- {text}" for text in notes.values()) or "(no notes)"
        result = await ctx.sample(f"Summarise these notes in one line:\n{listing}", max_tokens=100)
        return result.content.text if result.content.type == "text" else "(no text)"

    @mcp.resource("notes://all", mime_type="application/json")
    def all_notes() -> dict[int, str]:
        """Every note, by number."""
        return notes

    @mcp.resource("notes://{number}")
    def note(number: int) -> str:
        """One note."""
        if number not in notes:
            raise ResourceError(f"there is no note {number}")
        return notes[number]

    @mcp.prompt(completions={"tone": ["brief", "detailed", "friendly"]})
    def review_notes(tone: str = "brief") -> str:
        """Ask for a review of the notes."""
        return f"Review my notes ({len(notes)} of them) in a {tone} tone."

    return mcp


if __name__ == "__main__":
    create_server().run()
