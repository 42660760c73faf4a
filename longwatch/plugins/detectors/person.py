"""Person: OpenCV 4's HOG + linear SVM people detector (Dalal and Triggs).

Its weights (the SVM coefficients) ship compiled into OpenCV itself, so
nothing is downloaded; the identity hashes those coefficients as float32
bytes. OpenCV 5 dropped ``HOGDescriptor``, hence the pin below 5. It finds
standing, whole people of at least 64x128 pixels; see docs/detectors.md
for what the tests show.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from longwatch.core.media.frames import Frame
from longwatch.extras import require
from longwatch.plugins.detectors.base import Box, Detector, ModelFile


class PersonDetector(Detector):
    """Confidence is the logistic of the SVM margin (0.5 at the decision boundary)."""

    NAME = "person"
    VERSION = "1.0"
    EVENT_TYPES = ("person",)
    PARAMETERS: ClassVar[dict[str, Any]] = {"threshold": 0.6, "scale": 1.05, "stride": 8}

    def __init__(self, **parameters: Any) -> None:
        super().__init__(**parameters)
        self._hog: Any = None

    @staticmethod
    def _weights() -> np.ndarray:
        cv2 = require("cv2", "detectors")  # loaded on first use, not when the plugin registers; T002 if absent
        return np.asarray(cv2.HOGDescriptor_getDefaultPeopleDetector(), dtype=np.float32)

    def model(self) -> list[ModelFile]:
        cv2 = require("cv2", "detectors")  # loaded on first use, not when the plugin registers; T002 if absent
        return [ModelFile.of_bytes("HOGDescriptor_getDefaultPeopleDetector.f32", self._weights().tobytes(),
                                   f"opencv {cv2.__version__} (built in)")]

    def library(self) -> str:
        cv2 = require("cv2", "detectors")  # loaded on first use, not when the plugin registers; T002 if absent
        return f"opencv {cv2.__version__} HOGDescriptor"

    def analyse(self, frame: Frame) -> list[Box]:
        cv2 = require("cv2", "detectors")  # loaded on first use, not when the plugin registers; T002 if absent
        if self._hog is None:
            self._hog = cv2.HOGDescriptor()
            self._hog.setSVMDetector(self._weights())
        stride = int(self.parameters["stride"])
        image, s = self.fit(frame)
        found, weights = self._hog.detectMultiScale(image, winStride=(stride, stride), padding=(8, 8),
                                                    scale=float(self.parameters["scale"]))
        boxes = []
        for (x, y, w, h), weight in zip(found, np.ravel(weights), strict=False):
            score = 1.0 / (1.0 + math.exp(-float(weight)))
            if score >= self.parameters["threshold"]:
                boxes.append(Box(int(x * s), int(y * s), int(w * s), int(h * s), score))
        return boxes

