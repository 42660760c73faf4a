"""ffmpeg and ffprobe are called from ``longwatch/core/media/`` only.

Every command line is a named function in ``core/media/ffmpeg.py`` (probing in
``probe.py``, frame decoding in ``frames.py``), so what PREMIS records as
"how this was made" is in one place. Elsewhere a module may check that a tool
is installed (``media.require("ffmpeg")``), name it as an agent or mention it
in prose, but not build an argument list, nor use ffmpeg-python.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import longwatch

ROOT = Path(longwatch.__file__).resolve().parent
MEDIA = "core/media/"
TOOLS = {"ffmpeg", "ffprobe"}
#: Spellings only ffmpeg's own options use: a list holding one is (part of) an ffmpeg command line.
OPTIONS = {"-nostdin", "-loglevel", "-hide_banner", "-select_streams", "-show_entries", "-read_intervals",
           "-map", "-c:v", "-c:a", "-vf", "-filter_complex", "-frames:v", "-pix_fmt", "-movflags",
           "-avoid_negative_ts", "-rtsp_transport", "-segment_time", "-fps_mode", "-crf"}
SHELL_FORM = re.compile(r"\s*(ffmpeg|ffprobe)\s+-")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _text(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def command_lines(source: str) -> list[tuple[int, str]]:
    """(line, why) for every place in ``source`` that builds an ffmpeg/ffprobe command line."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.List | ast.Tuple):
            items = [_text(e) for e in node.elts]
            if items and items[0] in TOOLS and any(i and i.startswith("-") for i in items[1:]):
                found.append((node.lineno, f"argument list starting {items[0]!r}"))
            elif isinstance(node, ast.List) and items and items[0] in TOOLS:
                found.append((node.lineno, f"argument list starting {items[0]!r}"))
            elif options := sorted(OPTIONS & set(filter(None, items))):
                found.append((node.lineno, f"ffmpeg options {options}"))
        elif (isinstance(node, ast.Constant) and id(node) not in docstrings and isinstance(node.value, str)
              and SHELL_FORM.match(node.value)):
            found.append((node.lineno, f"shell command {node.value[:40]!r}"))
        elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "ffmpeg" for a in node.names):
            found.append((node.lineno, "imports ffmpeg-python"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "ffmpeg":
            found.append((node.lineno, "imports ffmpeg-python"))
    return sorted(found)


def test_no_ffmpeg_command_line_outside_core_media():
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(MEDIA):
            continue
        offenders += [f"{rel}:{line}: {why}" for line, why in command_lines(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_scan_finds_what_it_must_and_allows_the_rest():
    """The checker itself: command lines in each form are found; tool checks, agents and prose are not."""
    caught = '''
import ffmpeg
from ffmpeg import probe
cmd = ["ffmpeg", "-nostdin", "-i", str(path), out]
probe = ("ffprobe", "-v", "error", path)
subprocess.run(["ffprobe", path])
attempt = ["-i", "-frames:v", "1", "-vf", "scale=480:-2"]
ENCODER = ["-c:v", "libx264", "-crf", "20"]
os.system("ffmpeg -y -i a.mp4 b.mp4")
'''
    assert [line for line, _ in command_lines(caught)] == [2, 3, 4, 5, 6, 7, 8, 9]
    allowed = '''
"""Cut by stream copy (``ffmpeg -ss S -i clip -c copy``)."""
def cut():
    """ffmpeg -c copy, documented."""
    media.require("ffmpeg")
    version = media.tool_version("ffmpeg")
    agent = AgentRecord("ffmpeg", "ffmpeg", "software", version)
    for tool in ("ffprobe", "exiftool"):
        pass
    roles = [("ffprobe", "validator"), software]
    tools = {"ffmpeg": version}
    log = folder / "ffmpeg.log"
'''
    assert command_lines(allowed) == []


def test_the_scan_sees_every_command_line_inside_core_media():
    """Inside core/media the same scan finds each function's command line, so the first test is not vacuous."""
    source = (ROOT / MEDIA / "ffmpeg.py").read_text(encoding="utf-8")
    lines = [line for line, _ in command_lines(source)]
    functions = [f for f in ast.parse(source).body if isinstance(f, ast.FunctionDef)]
    assert len(functions) >= 12
    for function in functions:
        assert any(function.lineno <= line <= (function.end_lineno or 0) for line in lines), function.name
