"""`citywatch detect PATH`: the cascade on one file, printed for people tuning it.

Its models are imported when the command runs, not when the `citywatch` parser is built.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from citywatch.cli.common import config_of, setup_logging
from citywatch.config import CitywatchConfig

if TYPE_CHECKING:
    import supervision as sv

    from citywatch.runtime.media_analysis import MediaReport


def detect(
    config: CitywatchConfig, path: Path, types_arg: str, fps: float, as_json: bool, out: str | None
) -> int:
    from citywatch.domain.incident_types import IncidentType
    from citywatch.perception.detectors import load_detector
    from citywatch.perception.model_pack import ModelPack
    from citywatch.perception.second_stage import load_second_stage
    from citywatch.runtime.media_analysis import MediaAnalyzer, required_models, required_roles

    types = {IncidentType(t.strip()) for t in types_arg.split(",") if t.strip()}
    pack = ModelPack.open(config.models.path)
    detectors = {role: load_detector(pack, role, config.models) for role in required_roles(types)}
    models = {name: load_second_stage(name, config.models) for name in required_models(types)}
    analyzer = MediaAnalyzer(detectors, types, config.thresholds, analytics_fps=fps, models=models)
    report = analyzer.analyse(path, keep_frames=out is not None)
    if as_json:
        print(json.dumps(_as_json(report), indent=2))
    else:
        _print_text(report)
    if out:
        _write_annotated(report, Path(out), fps)
    return 0


def _detections_json(detections: sv.Detections) -> list[dict[str, object]]:
    return [
        {"class": str(name), "confidence": round(float(conf), 4), "xyxy": [round(float(v), 1) for v in box]}
        for box, conf, name in zip(
            detections.xyxy, detections.confidence, detections.data["class_name"], strict=True
        )
    ]


def _as_json(report: MediaReport) -> dict[str, object]:
    return {
        "file": str(report.path),
        "frames": [
            {
                "index": fr.frame.index,
                "seconds": round(fr.frame.timestamp, 3),
                "detections": {role: _detections_json(d) for role, d in fr.detections.items()},
            }
            for fr in report.frames
        ],
        "incidents": [
            {
                "type": str(i.type),
                "subtype": i.subtype,
                "confidence": round(i.confidence, 4),
                "frame_index": i.frame_index,
                "seconds": round(i.started_at, 3),
                "boxes": [
                    {"label": b.label, "confidence": round(b.confidence, 4), "xyxy": list(b.xyxy)}
                    for b in i.boxes
                ],
            }
            for i in report.incidents
        ],
    }


def _print_text(report: MediaReport) -> None:
    for fr in report.frames:
        found = [
            f"{d['class']} {d['confidence']:.2f}"
            for dets in fr.detections.values()
            for d in _detections_json(dets)
        ]
        print(f"frame {fr.frame.index:>6} {fr.frame.timestamp:8.2f}s  {', '.join(found) or '-'}")
    for i in report.incidents:
        print(
            f"INCIDENT {i.type}{'/' + i.subtype if i.subtype else ''} confidence {i.confidence:.2f} "
            f"at frame {i.frame_index} ({i.started_at:.2f}s)"
        )
    if not report.incidents:
        print("no incidents")


def _annotate(report: MediaReport):
    import supervision as sv

    boxes, labels = sv.BoxAnnotator(), sv.LabelAnnotator()
    for fr in report.frames:
        merged = sv.Detections.merge(list(fr.detections.values())) if fr.detections else sv.Detections.empty()
        image = fr.frame.image.copy()
        if len(merged):
            names = [
                f"{n} {c:.2f}" for n, c in zip(merged.data["class_name"], merged.confidence, strict=True)
            ]
            image = labels.annotate(boxes.annotate(image, merged), merged, labels=names)
        yield fr.frame, image


def _write_annotated(report: MediaReport, out: Path, fps: float) -> None:
    import cv2

    from citywatch.runtime.media_analysis import IMAGE_SUFFIXES
    from citywatch.video.clip_writer import write_clip
    from citywatch.video.frame import Frame

    annotated = [Frame(f.camera_id, f.index, f.timestamp, image) for f, image in _annotate(report)]
    out.parent.mkdir(parents=True, exist_ok=True)
    if report.path.suffix.lower() in IMAGE_SUFFIXES:
        cv2.imwrite(str(out), annotated[0].image)
    else:
        write_clip(annotated, out, fps)


def cmd_detect(args: argparse.Namespace) -> int:
    setup_logging(args.log_level or "WARNING")
    return detect(config_of(args), Path(args.path), args.types, args.fps, args.json, args.out)


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    command = sub.add_parser("detect", help="run the cascade on one image or video")
    command.add_argument("path")
    command.add_argument("--config", help="take model settings and thresholds from this cameras.yaml")
    command.add_argument("--types", default="fire", help="comma-separated incident types (default: fire)")
    command.add_argument("--fps", type=float, default=2.0, help="analysed frames per second of video")
    command.add_argument("--json", action="store_true", help="print detections and incidents as JSON")
    command.add_argument("--out", help="write the annotated image or video here")
    command.set_defaults(func=cmd_detect)
