"""Reproducible training of citywatch's own small models (needs the `[train]` extra: torch).

Each model has a module runnable as `python -m citywatch.training.<model>`; it writes the ONNX
file and its manifest entry into a model pack (the bundled one, citywatch/models/, by default).
"""
