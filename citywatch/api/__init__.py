"""The REST API under /api (FastAPI): routers per resource, bearer-token auth, the audit log."""
