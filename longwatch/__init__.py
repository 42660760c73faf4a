"""longwatch: a digital-preservation archive for CCTV video.

Plugin authors import everything they need from here: ``hookimpl`` and the
base classes they subclass.
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl

#: Where each public name lives. They are imported on first use (PEP 562), so
#: that ``import longwatch`` -- which every command pays -- does not load the
#: detector base (and NumPy with it) for a command that never decodes a frame.
_LAZY = {
    "Camera": "longwatch.plugins.connectors.base",
    "CameraConnector": "longwatch.plugins.connectors.base",
    "ClipInfo": "longwatch.plugins.connectors.base",
    "Gap": "longwatch.plugins.connectors.base",
    "Option": "longwatch.plugins.connectors.base",
    "Secret": "longwatch.plugins.connectors.base",
    "Detector": "longwatch.plugins.detectors.base",
    "PackageWriter": "longwatch.storage_adapters.base",
    "StorageAdapter": "longwatch.storage_adapters.base",
}

if TYPE_CHECKING:
    from longwatch.plugins.connectors.base import Camera, CameraConnector, ClipInfo, Gap, Option, Secret
    from longwatch.plugins.detectors.base import Detector
    from longwatch.storage_adapters.base import PackageWriter, StorageAdapter


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'longwatch' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Camera", "CameraConnector", "ClipInfo", "Detector", "Gap", "LongwatchError", "Option", "PackageWriter",
    "Secret", "StorageAdapter", "__version__", "hookimpl",
]
