"""Built-in detectors: one module each, registered together by :mod:`.builtin`.

The modules that need OpenCV (motion, person) or ONNX Runtime (face) import
it on first use, never when the plugin registers, so every ``longwatch``
command starts without loading a model library.
"""
