"""Tools: the tool servers admins register (OpenAPI, MCP) and the loop that runs them."""
