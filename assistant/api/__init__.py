"""HTTP API routers that are not channels (staff endpoints) and their shared dependencies."""
