"""MCP tools."""
