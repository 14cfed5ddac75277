"""Model pack, ONNX Runtime sessions, detectors, tracker and the shared inference scheduler."""
