"""Measuring the pipeline: labelled folders in, a report of what it found and how well.

`labels` reads `labels.csv`, `runner` runs the real cascade on every item, `scoring` turns what
was found into per-type counts, `report` writes the JSON and the table, `boxes` scores detector
boxes on YOLO-labelled sets, and `datasets` builds the evaluation folders from ../shared/datasets.
"""
