"""One router per resource; `citywatch.api.app.create_app` mounts them all under /api."""
