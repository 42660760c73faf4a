"""The built-in detectors (motion, person, face), registered as one plugin.

The detector modules import NumPy and the frame decoder; importing them only
when detectors are listed keeps them out of every other command's start-up.
"""

from __future__ import annotations

from typing import Any

from longwatch.hookspecs import hookimpl


@hookimpl
def register_detectors() -> list[type[Any]]:
    # Imported when the hook is first called, not with the plugin: NumPy, OpenCV and onnxruntime.
    from longwatch.plugins.detectors.face import FaceDetector
    from longwatch.plugins.detectors.motion import MotionDetector
    from longwatch.plugins.detectors.person import PersonDetector

    return [MotionDetector, PersonDetector, FaceDetector]
