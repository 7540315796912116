"""The Platform API v3 routes, one module per resource."""
