"""Running the cascade: the Supervisor and its camera workers (`citywatch run`, `serve`), the files
of `citywatch detect` and `eval` (media_analysis), and the one cascade on a frame that they share
with the bench's baseline (cascade). Code outside reads the Supervisor through `stats()` and
`latest_frame()`, never its workers, scheduler or sink.
"""
