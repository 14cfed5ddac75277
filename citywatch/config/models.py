"""The model pack and how ONNX Runtime runs it."""

from pathlib import Path

from pydantic import Field, field_validator

from citywatch.config.base import DetectionType, StrictModel


class ModelSettings(StrictModel):
    path: Path | None = Field(
        default=None,
        description="Model pack folder (with manifest.json); $CITYWATCH_MODELS or ../shared/models if unset.",
    )
    providers: list[str] = Field(
        default_factory=lambda: ["CPUExecutionProvider"],
        description="ONNX Runtime execution providers in order of preference.",
    )
    intra_op_threads: int = Field(default=0, ge=0, description="Threads per model; 0 lets ONNX Runtime pick.")
    spin_wait: bool = Field(
        default=False,
        description="Let ONNX Runtime's idle threads spin instead of sleeping between runs. Off: spinning "
        "measured to cost 1.8x the CPU per frame of the COCO model on a loaded 2-core machine "
        "(docs/BENCHMARKS.md) for no gain in throughput; turn on only on a machine with idle cores.",
    )
    gpu_device_id: int = Field(default=0, ge=0, description="The GPU the CUDA and TensorRT providers use.")
    tensorrt_cache_dir: Path | None = Field(
        default=None,
        description="Folder where the TensorRT provider keeps the engines it builds (minutes per model), so "
        "later starts reuse them; none builds them again at every start. Used only with "
        "TensorrtExecutionProvider in providers.",
    )
    tensorrt_fp16: bool = Field(default=True, description="Let TensorRT run layers in half precision.")
    batch_size: int = Field(default=8, ge=1, description="Most frames the scheduler takes in one go.")
    max_wait_ms: float = Field(default=20, ge=0, description="How long the scheduler waits to fill a batch.")
    queue_size: int = Field(
        default=16,
        ge=1,
        description="Frames waiting for inference, all cameras together; beyond it the oldest is shed.",
    )
    per_camera_queue: int = Field(
        default=2,
        ge=1,
        description="Frames of one camera waiting for inference; a newer one supersedes the oldest, so one "
        "busy camera cannot delay the others (the scheduler takes the cameras in turn).",
    )
    latency_budget_s: float | None = Field(
        default=2.0,
        gt=0,
        description="A frame older than this from its capture when its turn comes is skipped, not analysed "
        "late (counted per camera in /metrics); null analyses every frame however late.",
    )
    type_priority: list[DetectionType] = Field(
        default_factory=lambda: ["fire", "weapon", "fall", "fight", "accident", "no_helmet"],
        min_length=1,
        description="Which incident types keep their detector passes when the machine cannot do everything: "
        "a frame that waited more than half of latency_budget_s loses the passes of the types late in this "
        "list first (counted per camera and role in /metrics, citywatch_passes_skipped_total); types not "
        "listed come last.",
    )

    @field_validator("type_priority")
    @classmethod
    def _each_type_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("an incident type is listed more than once")
        return value
