"""Incidents: the incident value, evidence, the store and (later) notifiers."""
