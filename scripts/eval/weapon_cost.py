"""Per-frame cost of our detectors on this CPU: the COCO detector (which every person-based
analyzer already runs), the weapon detector, the rider head detector (no_helmet, on frames with a
two-wheeler), and MoveNet on one person crop (run by the weapon analyzer only for a person near a
weapon that is not on their body).

    .venv/bin/python scripts/eval/weapon_cost.py [--runs 30] [--threads 0]

Each model runs through citywatch's own code (letterbox, ONNX Runtime, decoding and NMS) on real
frames: street video frames and val images of the gun set; the median of `--runs` calls is printed.
"""

import argparse
import statistics
import time

import av
import cv2
import numpy as np

from citywatch.config import ModelSettings
from citywatch.paths import datasets_dir
from citywatch.perception.detectors import load_detector
from citywatch.perception.model_pack import ModelPack
from citywatch.perception.second_stage import load_second_stage


def frames() -> list[np.ndarray]:
    images = []
    with av.open(str(datasets_dir() / "streets" / "car-detection.mp4")) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % 100 == 0:
                images.append(frame.to_ndarray(format="bgr24"))
            if len(images) == 3:
                break
    gun = sorted((datasets_dir() / "gun" / "images" / "val").glob("Cam*.jpg"))[:3]
    street = sorted((datasets_dir() / "helmet_th" / "images" / "train").glob("*.jpg"))[:3]
    return images + [cv2.imread(str(p)) for p in gun + street]


def median_ms(call, inputs: list, runs: int) -> float:
    for item in inputs:
        call(item)
    timings = []
    for i in range(runs):
        start = time.perf_counter()
        call(inputs[i % len(inputs)])
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0: its default)"
    )
    args = parser.parse_args()
    settings = ModelSettings(intra_op_threads=args.threads)
    pack = ModelPack.open()
    coco = load_detector(pack, "coco", settings)
    weapon = load_detector(pack, "weapon", settings)
    heads = load_detector(pack, "rider_heads", settings)
    pose = load_second_stage("pose", settings)
    images = frames()
    person = np.array([[100, 60, 180, 300]], np.float32)
    results = {
        f"coco ({coco.name}, {coco.input_size[0]})": median_ms(coco.detect, images, args.runs),
        f"weapon ({weapon.name}, {weapon.input_size[0]})": median_ms(weapon.detect, images, args.runs),
        f"rider heads ({heads.name}, {heads.input_size})": median_ms(heads.detect, images, args.runs),
        "pose (MoveNet, one person crop, 256)": median_ms(
            lambda im: pose.estimate(im, person), images, args.runs
        ),
    }
    for name, ms in results.items():
        print(f"{name}: {ms:.1f} ms")


if __name__ == "__main__":
    main()
