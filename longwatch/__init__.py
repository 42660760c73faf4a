"""longwatch: a digital-preservation archive for CCTV video.

Plugin authors import everything they need from here: ``hookimpl`` and the
base classes they subclass.
"""

__version__ = "0.1.0"

from longwatch.errors import LongwatchError
from longwatch.hookspecs import hookimpl
from longwatch.plugins.connectors.base import Camera, CameraConnector, ClipInfo, Gap, Option, Secret
from longwatch.plugins.detectors.base import Detector
from longwatch.storage_adapters.base import PackageWriter, StorageAdapter

__all__ = [
    "Camera", "CameraConnector", "ClipInfo", "Detector", "Gap", "LongwatchError", "Option", "PackageWriter",
    "Secret", "StorageAdapter", "__version__", "hookimpl",
]
