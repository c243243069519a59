"""The dashboard (server-rendered pages) and the REST API, over the same services."""
