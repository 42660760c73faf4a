"""Everything that runs ffmpeg, ffprobe or exiftool: probe.py, ffmpeg.py (every command line), frames.py.

``longwatch.core.media`` was one module before 0.2; its public names still
resolve here, with a DeprecationWarning, for one release (longwatch/_compat.py),
except ``probe``: that name is now the submodule (call ``media.probe.probe``).
"""

from longwatch._compat import moved

__getattr__ = moved(__name__, "longwatch.core.media.probe",
                    names=("TOOLS", "require", "tool_version", "ProbeResult", "make_test_clip"))
