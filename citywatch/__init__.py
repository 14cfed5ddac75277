"""citywatch: turns a city's CCTV cameras into a safety system."""

__version__ = "0.1.0"
