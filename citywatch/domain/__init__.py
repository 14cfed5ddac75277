"""The values every stage shares and nothing else: incident types (one table), the incident and its
events and, as the architecture issue moves them here, camera-state values (docs/ARCHITECTURE.md)."""
