"""A real RTSP server for tests: serves an H.264 MP4 at rtsp://127.0.0.1:PORT/cam, paced in real time.

Run with Debian's system Python, which has GStreamer's introspection bindings (the venv does not):

    /usr/bin/python3 tests/support/rtsp_server.py VIDEO.mp4 PORT

Needs the Debian packages python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-good
(qtdemux, rtph264pay) and gstreamer1.0-plugins-bad (h264parse). Prints "ready" once it listens.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    video, port = sys.argv[1], sys.argv[2]
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    # config-interval=-1 repeats SPS/PPS with every keyframe so a client joining late can decode.
    factory.set_launch(
        f'( filesrc location="{video}" ! qtdemux ! h264parse'
        " ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
    )
    factory.set_shared(True)
    server.get_mount_points().add_factory("/cam", factory)
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on port {port}")
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
