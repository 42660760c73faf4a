"""A real RTSP server on 127.0.0.1: GStreamer's, run by Debian's own python3 (which has ``gi``).

Tests stop it mid-stream (an honest outage), freeze it with SIGSTOP (a
stalled stream) and start it again on the same port. The benchmark uses
:class:`RtspServer` too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ports import free_port

SYSTEM_PYTHON = "/usr/bin/python3"

SERVER = r'''
import signal, sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer
Gst.init(None)
port, user, password, bitrate, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
width, height, pattern = int(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
for i in range(1, count + 1):
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        "( videotestsrc is-live=true pattern=%s ! video/x-raw,width=%d,height=%d,framerate=25/1 "
        "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 bitrate=%d "
        "! rtph264pay name=pay0 pt=96 )" % (pattern if pattern != "auto" else str(i % 20), width, height, bitrate))
    factory.set_shared(True)
    if user:
        perms = GstRtspServer.RTSPPermissions()
        perms.add_role_from_structure(Gst.Structure.new_from_string(
            "user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"))
        factory.set_permissions(perms)
    server.get_mount_points().add_factory("/cam%d" % i, factory)
if user:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "user")
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    server.set_auth(auth)
if server.attach(None) == 0:
    sys.exit("cannot bind")
loop = GLib.MainLoop()
signal.signal(signal.SIGTERM, lambda *a: loop.quit())
print("ready", flush=True)
loop.run()
'''


class RtspServer:
    """One GStreamer RTSP server process serving /cam1../camN (H.264, ``bitrate`` kbit/s)."""

    def __init__(self, workdir: Path, user: str = "", password: str = "", bitrate: int = 256,
                 streams: int = 1, size: tuple[int, int] = (320, 180), pattern: str = "auto") -> None:
        self.script = workdir / "rtsp_server.py"
        self.script.write_text(SERVER, encoding="utf-8")
        self.port = free_port()
        self.user, self.password, self.bitrate, self.streams = user, password, bitrate, streams
        self.size, self.pattern = size, pattern
        self._started = False
        self.proc: subprocess.Popen[str] | None = None

    def url(self, n: int = 1) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam{n}"

    def start(self) -> None:
        """Start; the first start retries on another free port if one was taken meanwhile (xdist)."""
        for attempt in range(1 if self._started else 3):
            try:
                self._start()
                self._started = True
                return
            except RuntimeError:
                if self._started or attempt == 2:
                    raise
                self.port = free_port()

    def _start(self) -> None:
        self.proc = subprocess.Popen(
            [SYSTEM_PYTHON, str(self.script), str(self.port), self.user, self.password, str(self.bitrate),
             str(self.streams), str(self.size[0]), str(self.size[1]), self.pattern],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError(f"RTSP server did not start: {line}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.resume()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def pause(self) -> None:
        """Freeze the server: connections stay open, no data flows (a stalled stream)."""
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGCONT)


def has_gstreamer_rtsp() -> bool:
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0');"
                            "from gi.repository import GstRtspServer"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.fixture
def rtsp_server(tmp_path: Path) -> Iterator[RtspServer]:
    """A running RTSP server at ``rtsp_server.url()``; stopped (never left behind) after the test."""
    if not has_gstreamer_rtsp():
        pytest.fail("GStreamer's RTSP server is missing: `make test` installs the Debian packages (Makefile DEBS)")
    server = RtspServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def rtsp_auth_server(tmp_path: Path) -> Iterator[RtspServer]:
    """An RTSP server that asks for user ``viewer`` and password ``s3cret-pw``."""
    server = RtspServer(tmp_path, user="viewer", password="s3cret-pw")
    server.start()
    try:
        yield server
    finally:
        server.stop()
