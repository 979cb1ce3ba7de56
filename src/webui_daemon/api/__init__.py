"""HTTP routers, one module per resource, plus the dependencies and error mapping they share."""
