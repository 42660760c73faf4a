"""Every ffmpeg and ffprobe command line longwatch runs, one named function each.

The command lines are what PREMIS records as "how this copy was made" and
what the tests prove, so they live in one place where a reader can see them
all side by side: stream-copy cuts, frames for detectors and datasets, the
redaction and watermark re-encodes, the web's poster frames and MP4 remuxes,
the RTSP recorder, test footage. (Probing for technical metadata is
:mod:`longwatch.core.media.probe`; frame decoding is
:mod:`longwatch.core.media.frames`.)

Each function only builds the argument list (``["ffmpeg", ...]``) and runs
nothing: the caller runs it, since callers differ in how (waiting for the
result, reading frames from a pipe, feeding frames in, signalling a
recorder) and in which coded error a failure is. Callers check that the tool
is installed first (:func:`longwatch.core.media.probe.require`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

#: The libx264 settings of a redacted copy (:func:`masked_encode`); recorded in the package's parameters.
REDACTION_ENCODER = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]


# -- probing with ffprobe ------------------------------------------------------------------------------
def stream_info(path: Path | str) -> list[str]:
    """ffprobe: width, height, frame rate and duration of the first video stream, as JSON."""
    return ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
            "stream=width,height,r_frame_rate,duration:format=duration", "-of", "json", str(path)]


def keyframe_packets(path: Path | str, since: float, until: float) -> list[str]:
    """ffprobe: time and flags of every video packet from ``since`` to ``until`` seconds, as CSV.

    Reads packets only, nothing is decoded; keyframes carry a ``K`` flag.
    """
    return ["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", f"{since:.3f}%{until:.3f}",
            "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", str(path)]


def rtsp_probe(url: str, transport: str, timeout: float) -> list[str]:
    """ffprobe: the codecs of an RTSP stream, giving up after ``timeout`` seconds without an answer."""
    return ["ffprobe", "-v", "error", "-rtsp_transport", transport,
            "-timeout", str(int(timeout * 1_000_000)), "-show_entries", "stream=codec_name",
            "-of", "json", url]


# -- cutting and remuxing by stream copy (nothing re-encoded) -------------------------------------------
def stream_copy_cut(source: Path | str, out: Path | str, start: float, duration: float, *,
                    video_only: bool = False, list_first_packet: bool = False) -> list[str]:
    """``duration`` seconds from ``start`` by stream copy, which starts on the keyframe at or before ``start``.

    ``video_only`` keeps the first video stream only (dataset clips: no
    sound); otherwise every stream is kept. With ``list_first_packet`` the
    same process also writes the cut's first video packet to stdout as a
    ``framemd5`` listing with unshifted timestamps (``-avoid_negative_ts
    disabled``), which says where the keyframe lies; the cut's bytes are the
    same as without it.
    """
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", f"{start:.3f}", "-i", str(source),
           "-t", f"{duration:.3f}", "-map", "0:v:0" if video_only else "0", "-c", "copy",
           "-avoid_negative_ts", "make_zero", str(out)]
    if list_first_packet:
        cmd += ["-map", "0:v:0", "-c", "copy", "-frames:v", "1", "-avoid_negative_ts", "disabled",
                "-f", "framemd5", "pipe:1"]
    return cmd


def mp4_remux(source: str, out: str, *, audio: bool = True) -> list[str]:
    """The same pictures (and sound, when ``audio``) in an MP4 container a browser plays, by stream copy.

    ``source`` may be ``pipe:0``. With ``audio`` the video and sound streams
    are kept when present; without it only the video (for sound an MP4
    cannot carry).
    """
    streams = ["-map", "0:v?", "-map", "0:a?"] if audio else ["-map", "0:v", "-an"]
    return ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", source, *streams,
            "-c", "copy", "-movflags", "+faststart", "-f", "mp4", out]


def rtsp_segments(url: str, transport: str, stall: float, segment_seconds: float, segment_list: Path | str,
                  pattern: Path | str) -> list[str]:
    """The RTSP recorder: stream copy into MPEG-TS segments of ``segment_seconds``, cut at key frames.

    Progress reports (``out_time_us``, every 0.2 s) go to stdout, warnings
    to stderr; the segment list (name, start, end in seconds from the first
    packet) is written as CSV to ``segment_list`` and the segments to
    ``pattern`` (``seg%06d.ts``). ffmpeg exits after ``stall`` seconds
    without data. The credentials, if any, are inside ``url``.
    """
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "warning", "-progress", "pipe:1",
            "-stats_period", "0.2", "-rtsp_transport", transport, "-timeout", str(int(stall * 1_000_000)),
            "-i", url, "-map", "0", "-c", "copy", "-f", "segment",
            "-segment_time", str(segment_seconds), "-segment_format", "mpegts",
            "-reset_timestamps", "1", "-segment_list", str(segment_list), "-segment_list_type", "csv",
            str(pattern)]


# -- decoding to pictures ----------------------------------------------------------------------------
def rgb_frames(path: Path | str, width: int, height: int, fps: float | None = None, start: float = 0.0,
               end: float | None = None) -> list[str]:
    """Raw RGB24 frames of ``width`` x ``height`` on stdout, ``fps`` a second (None: every frame as stored).

    From ``start`` seconds (seeking before the input) to ``end`` (None: the
    end of the clip); the video only.
    """
    filters = [f"fps={fps}"] if fps else []
    filters.append(f"scale={width}:{height}")
    cmd = ["ffmpeg", "-nostdin", "-v", "error"]
    if start > 0:
        cmd += ["-ss", f"{start:.3f}"]
    cmd += ["-i", str(path)]
    if end is not None:
        cmd += ["-t", f"{max(0.0, end - start):.3f}"]
    cmd += ["-an", "-sn", "-dn", "-vf", ",".join(filters)]
    if not fps:
        cmd += ["-fps_mode", "passthrough"]
    cmd += ["-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"]
    return cmd


def frame_at(path: Path | str, offset: float) -> list[str]:
    """One full-size raw RGB24 frame at ``offset`` seconds on stdout (accurate seek: decoded from the keyframe
    before it)."""
    return ["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{max(0.0, offset):.3f}", "-i", str(path),
            "-frames:v", "1", "-an", "-sn", "-dn", "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"]


def poster_frame(source: str, out: str, *, seek: bool) -> list[str]:
    """A JPEG poster 480 pixels wide: half a second in when ``seek`` (a file; a pipe cannot seek), else the
    first frame."""
    skip = ["-ss", "0.5"] if seek else []
    return ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *skip, "-i", source,
            "-frames:v", "1", "-vf", "scale=480:-2", "-q:v", "4", "-f", "image2", out]


# -- re-encoding (new access copies, never evidence) ----------------------------------------------------------
def masked_encode(source: Path | str, out: Path | str, width: int, height: int, fps: float) -> list[str]:
    """A redacted copy: masked RGB24 frames read from stdin, encoded with :data:`REDACTION_ENCODER`; the
    sound, if any, is copied from ``source``."""
    return ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
            "-s", f"{width}x{height}", "-r", f"{fps:.6f}", "-i", "pipe:0", "-i", str(source),
            "-map", "0:v", "-map", "1:a?", *REDACTION_ENCODER, "-c:a", "copy", "-shortest", str(out)]


def watermarked_copy(original: Path | str, out: Path | str, text_file: Path | str, font: Path | str) -> list[str]:
    """An export's access copy: the first video stream re-encoded with the text of ``text_file`` burned in
    along the bottom (drawtext with ``font``); no sound."""
    fontfile = str(font).replace(":", "\\:")
    draw = (f"drawtext=fontfile={fontfile}:textfile={text_file}:fontcolor=white@0.8:fontsize=h/24:"
            "box=1:boxcolor=black@0.4:x=(w-text_w)/2:y=h-2*text_h")
    return ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(original), "-map", "0:v:0", "-vf", draw,
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-pix_fmt", "yuv420p", "-an", str(out)]


def synthetic_clip(path: Path | str, seconds: float = 2.0, size: str = "320x240", rate: int = 25, label: str = "",
              start: datetime | None = None, source: str = "testsrc2") -> list[str]:
    """Honest H.264 test footage from an ffmpeg test pattern (``source``), a keyframe every second.

    With ``start`` a UTC clock (and ``label``) is burned in and the
    container's creation_time set. See
    :func:`longwatch.core.media.probe.make_test_clip`, which runs it.
    """
    cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"{source}=size={size}:rate={rate}"]
    cmd += ["-t", str(seconds)]
    if start is not None:
        # ffmpeg-python escapes '%' and so breaks drawtext's expansion: the filter is written here.
        clock = f"%{{pts\\:gmtime\\:{int(start.timestamp())}\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}} UTC"
        text = (label.replace("'", "").replace(":", " ") + " " if label else "") + clock
        cmd += ["-vf", f"drawtext=text='{text}':x=8:y=8:fontsize=18:fontcolor=white:box=1:boxcolor=black@0.6"]
        cmd += ["-metadata", f"creation_time={start.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.000000Z')}"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(rate)]
    cmd += ["-movflags", "+faststart", str(path)]
    return cmd
