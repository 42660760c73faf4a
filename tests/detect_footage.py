"""Honest test footage for detectors, made with ffmpeg at test time.

Moving shapes for motion, a still scene for none, and a real photograph
that ships inside scikit-image (``astronaut.png``, the picture behind
``skimage.data.astronaut()``) composited into video for faces.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "10"]


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, timeout=300)


def moving_shapes(path: Path, seconds: float = 4, size: str = "320x240") -> Path:
    """A white square crossing a grey scene."""
    _ffmpeg("-f", "lavfi", "-i", f"color=c=gray:s={size}:r=10:d={seconds}",
            "-f", "lavfi", "-i", f"color=c=white:s=40x40:r=10:d={seconds}",
            "-filter_complex", "[0][1]overlay=x='10+t*60':y=100:shortest=1", *X264, str(path))
    return path


def still_scene(path: Path, seconds: float = 4, size: str = "320x240") -> Path:
    """The same scene with the square standing still."""
    _ffmpeg("-f", "lavfi", "-i", f"color=c=gray:s={size}:r=10:d={seconds}",
            "-vf", "drawbox=x=100:y=100:w=40:h=40:color=white:t=fill", *X264, str(path))
    return path


def astronaut_png() -> Path:
    import skimage.data

    path = Path(skimage.data.__file__).parent / "astronaut.png"
    assert path.is_file(), "scikit-image ships astronaut.png"
    return path


def face_scene(path: Path, seconds: float = 2) -> Path:
    """scikit-image's astronaut photograph (one real face) on a grey 640x480 scene, 5 frames a second."""
    _ffmpeg("-f", "lavfi", "-i", f"color=c=gray:s=640x480:r=5:d={seconds}",
            "-loop", "1", "-i", str(astronaut_png()),
            "-filter_complex", "[1]scale=400:400[p];[0][p]overlay=x=120:y=40:shortest=1", *X264, str(path))
    return path


# -- fixtures (imported by the detector, window and redaction tests) -------------------------
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def footage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("footage")
    return {"moving": moving_shapes(root / "moving.mp4"), "still": still_scene(root / "still.mp4"),
            "face": face_scene(root / "face.mp4")}
