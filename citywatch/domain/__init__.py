"""The values every stage shares and nothing else: incident types (one table) and, as the
architecture issue moves them here, the incident and camera-state values (docs/ARCHITECTURE.md)."""
