"""Built-in camera connectors: drop folder, RTSP recorder, vendor exports.

Each module is a plugin listed in ``registry.DEFAULT_PLUGINS`` that returns
its class from ``register_camera_connectors``, as a vendor's package would.
"""
