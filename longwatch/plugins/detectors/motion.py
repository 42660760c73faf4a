"""Motion: OpenCV's MOG2 background subtraction, with per-camera areas to ignore.

No learned weights: the identity is the algorithm, OpenCV's version and the
parameters. ``ignore`` lists rectangles ``[x, y, w, h]`` as fractions of the
frame (so a mask fits every resolution of that camera), for trees, roads or
clocks burned into the picture that would flag motion all day.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from longwatch.core.media.frames import Frame
from longwatch.extras import require
from longwatch.plugins.detectors.base import Box, Detector


class MotionDetector(Detector):
    """Flags frames where a large enough area differs from the learned background.

    Confidence is the moving share of the frame scaled so that 5% or more
    reads 1.0: a measure of how much moved, not a probability.
    """

    NAME = "motion"
    VERSION = "1.0"
    EVENT_TYPES = ("motion",)
    PARAMETERS: ClassVar[dict[str, Any]] = {"history": 20, "var_threshold": 32.0, "min_area": 0.002, "ignore": []}
    WARMUP_FRAMES = 3

    def __init__(self, **parameters: Any) -> None:
        super().__init__(**parameters)
        self._subtractor: Any = None
        self._seen = 0
        self._mask: np.ndarray | None = None

    def library(self) -> str:
        cv2 = require("cv2", "detectors")  # loaded on first use, not when the plugin registers; T002 if absent
        return f"opencv {cv2.__version__} BackgroundSubtractorMOG2"

    def reset(self) -> None:
        cv2 = require("cv2", "detectors")  # loaded on first use, not when the plugin registers; T002 if absent
        self._subtractor = cv2.createBackgroundSubtractorMOG2(
            history=int(self.parameters["history"]), varThreshold=float(self.parameters["var_threshold"]),
            detectShadows=False)
        self._seen = 0
        self._mask = None

    def _ignore_mask(self, shape: tuple[int, int]) -> np.ndarray:
        if self._mask is None or self._mask.shape != shape:
            h, w = shape
            mask = np.full(shape, 255, np.uint8)
            for rect in self.parameters["ignore"]:
                x, y, rw, rh = (float(v) for v in rect)
                mask[int(y * h):int((y + rh) * h), int(x * w):int((x + rw) * w)] = 0
            self._mask = mask
        return self._mask

    def analyse(self, frame: Frame) -> list[Box]:
        cv2 = require("cv2", "detectors")  # loaded on first use, not when the plugin registers; T002 if absent
        if self._subtractor is None:
            self.reset()
        gray = cv2.GaussianBlur(cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY), (5, 5), 0)
        foreground = self._subtractor.apply(gray)
        self._seen += 1
        if self._seen <= self.WARMUP_FRAMES:
            return []
        foreground = cv2.bitwise_and(foreground, self._ignore_mask(gray.shape))
        foreground = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        area = gray.shape[0] * gray.shape[1]
        moving = float(np.count_nonzero(foreground)) / area
        if moving < self.parameters["min_area"]:
            return []
        contours, _ = cv2.findContours(foreground, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        score = min(1.0, moving / 0.05)
        boxes = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h >= self.parameters["min_area"] * area:
                s = frame.scale
                boxes.append(Box(int(x * s), int(y * s), int(w * s), int(h * s), score))
        return boxes

