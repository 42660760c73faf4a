"""Built-in detectors: each module is a plugin registered through ``register_detectors``.

The modules that need OpenCV (motion, person) or ONNX Runtime (face) import
it only when a detector is built, so listing plugins never loads a model.
"""
