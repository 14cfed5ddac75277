"""Why each labelled bare head of the helmet eval set did or did not raise `no_helmet`.

    .venv/bin/citywatch eval /tmp/cw-helmet --types no_helmet --out /tmp/cw-helmet.json
    .venv/bin/python scripts/eval/no_helmet_misses.py /tmp/cw-helmet.json /tmp/cw-helmet

For every `no_helmet` frame of the report and every `Without Helmet` head labelled in it: the COCO
person whose top-of-box head estimate (what the analyzer classifies) overlaps that head most, the
overlap, whether the person sits on a two-wheeler, and the classifier's no-helmet probability for
the estimated head and for the labelled one, using the analyzer's own functions and thresholds.
"""

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import supervision as sv

from citywatch.analytics.no_helmet import lower_half_overlap
from citywatch.config import ModelSettings, NoHelmetThresholds
from citywatch.paths import BUNDLED_MODELS_DIR, datasets_dir
from citywatch.perception.detectors import load_detector
from citywatch.perception.helmet import NO_HELMET, HelmetClassifier, person_head_boxes
from citywatch.perception.model_pack import ModelPack
from citywatch.training.yolo_data import read_yolo_split

BARE = 1
"""helmet_th's `Without Helmet` class id."""
TWO_WHEELERS = ("motorcycle", "bicycle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("report", type=Path, help="the JSON report of `citywatch eval ... --types no_helmet`")
    parser.add_argument("folder", type=Path, help="the eval folder the report was made from")
    args = parser.parse_args()
    settings = ModelSettings()
    coco = load_detector(ModelPack.open(), "coco", settings)
    classifier = HelmetClassifier.from_pack(settings, ModelPack.open(BUNDLED_MODELS_DIR))
    min_seat = NoHelmetThresholds().min_rider_overlap
    labels_by_name = {item.path.name: item for item in read_yolo_split(datasets_dir() / "helmet_th")}
    for item in json.loads(args.report.read_text())["items"]:
        if item["label"] != "no_helmet":
            continue
        image = cv2.imread(str(args.folder / item["file"]), cv2.IMREAD_COLOR)
        found = coco.detect(image)
        persons = found[found.data["class_name"] == "person"]
        wheels = found[np.isin(found.data["class_name"], TWO_WHEELERS)]
        estimates = person_head_boxes(persons.xyxy)
        notes = []
        heads = labels_by_name[Path(item["file"]).name]
        for head in heads.boxes_xyxy(image.shape[1], image.shape[0])[heads.classes == BARE]:
            _, labelled = classifier.classify(image, head[None].astype(np.float32))
            overlap = sv.box_iou_batch(head[None], estimates)[0] if len(estimates) else np.zeros(1)
            best = int(overlap.argmax())
            if overlap[best] < 0.1:
                notes.append(f"no COCO person at the head ({head[2] - head[0]:.0f} px wide)")
                continue
            seat = lower_half_overlap(persons.xyxy[best : best + 1], wheels.xyxy) if len(wheels) else [[0.0]]
            seated = float(np.max(seat)) >= min_seat
            _, estimated = classifier.classify(image, estimates[best : best + 1])
            notes.append(
                f"head IoU {overlap[best]:.2f}, on a two-wheeler {seated}, P(no helmet) "
                f"{estimated[0, NO_HELMET]:.2f} (labelled box {labelled[0, NO_HELMET]:.2f})"
            )
        print(f"{Path(item['file']).name[:40]}  raised {bool(item['found'])}: " + "; ".join(notes))


if __name__ == "__main__":
    main()
