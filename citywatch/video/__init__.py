"""Video: camera sources, sampling, motion gating, ring buffer, clips and camera health."""
