"""Incidents (storage, for now): evidence, the store, lifecycle, users and audit."""
