"""longwatch as a city's IT team installs it: from the wheel, in a fresh venv, away from the source tree.

The editable install the other tests run against reads templates, schemas and
catalogs straight from the source tree, so a file the wheel leaves out (issue
23: every template under ``web/templates/public/``) goes unnoticed there. This
test builds the wheel offline, installs it into a new venv outside the source
tree and runs the everyday commands and every page from that install.

The dependencies come from this test venv through a ``.pth`` line (a plain path
line: the editable install's own ``.pth`` hook in that directory is not run),
so nothing is downloaded; the source tree cannot leak in, and the test asserts
it did not.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from longwatch.core.media.probe import make_test_clip

pytestmark = pytest.mark.slow

SOURCE = Path(__file__).resolve().parents[1]
PACKAGE = SOURCE / "longwatch"
#: what a source checkout holds that a build must not see (caches, local venvs, earlier builds)
IGNORE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
                                ".pytest_cache", ".mypy_cache", ".ruff_cache", "demo-archive*", "artifacts",
                                "results")


def _source_files() -> set[str]:
    """Every file of the package in the source tree, as a path inside the wheel."""
    return {str(p.relative_to(SOURCE)) for p in PACKAGE.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built offline from a clean copy of the tree (a stale build/ must not hide a missing file)."""
    work = tmp_path_factory.mktemp("wheel")
    tree = work / "src"
    shutil.copytree(SOURCE, tree, ignore=IGNORE)
    out = work / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(out), str(tree)], check=True, cwd=work)
    (built,) = out.glob("longwatch-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the wheel installed and this venv's site-packages for the dependencies."""
    env_dir = tmp_path_factory.mktemp("venv") / "lw"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    deps = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    (site / "zz_test_dependencies.pth").write_text("".join(f"{d}\n" for d in deps))
    return env_dir


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "XML_CATALOG_FILES", "LONGWATCH_ARCHIVE", "VIRTUAL_ENV")}
    env.update(HOME=str(home), LONGWATCH_LANG="en", PYTHONDONTWRITEBYTECODE="1")
    return env


def _run(installed: Path, cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(installed / "bin" / "longwatch"), *args], cwd=cwd, env=_env(cwd), input=stdin,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result


def test_wheel_ships_every_file_of_the_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        shipped = set(zf.namelist())
    missing = sorted(_source_files() - shipped)
    assert not missing, f"left out of the wheel: {missing}"
    assert "longwatch/web/templates/public/notice.html" in shipped
    assert not [n for n in shipped if "__pycache__" in n or n.startswith(("tests/", "benchmarks/"))]


def test_installed_wheel_runs_init_ingest_verify_export_and_every_page(installed: Path, tmp_path: Path) -> None:
    python = str(installed / "bin" / "python")
    where = subprocess.run(
        [python, "-c", "import json, sys, longwatch, longwatch.web; "
                       "print(json.dumps({'file': longwatch.__file__, 'path': sys.path}))"],
        cwd=tmp_path, env=_env(tmp_path), check=True, capture_output=True, text=True)
    found = json.loads(where.stdout)
    assert Path(found["file"]).resolve().is_relative_to(installed.resolve()), found["file"]
    assert not [p for p in found["path"] if p and Path(p).resolve().is_relative_to(SOURCE)], found["path"]

    clip = make_test_clip(tmp_path / "cam-07_20260303T050000Z.mp4", seconds=2, size="320x240", rate=10,
                          label="cam-07")
    _run(installed, tmp_path, "init", "arc", "--organization", "Test City", "--language", "en")
    ingested = json.loads(_run(installed, tmp_path, "-A", "arc", "ingest", str(clip), "--camera", "cam-07",
                               "--json").stdout)
    (package,) = ingested["packages"]
    package_id = package["package_id"]
    assert "OK" in _run(installed, tmp_path, "-A", "arc", "verify", package_id).stdout
    _run(installed, tmp_path, "-A", "arc", "verify", "--all")
    _run(installed, tmp_path, "-A", "arc", "export", package_id, "-o", "export", "--agency", "Police",
         "--legal-basis", "Personal Information Protection Act art. 18(2)7", "--purpose", "investigation")
    _run(installed, tmp_path, "verify-export", "export")
    for role in ("administrator", "operator", "auditor", "investigator", "records-manager"):
        _run(installed, tmp_path, "-A", "arc", "users", "add", role, "--role", role, "--password-stdin",
             stdin="correct horse battery\n")

    script = tmp_path / "pages.py"
    script.write_text(PAGES)
    result = subprocess.run([python, str(script), "arc", package_id], cwd=tmp_path, env=_env(tmp_path),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["templates_missing"] == [], report["templates_missing"]
    assert report["broken"] == [], report["broken"]
    assert report["pages"] >= 20, report
    expected = {str(p.relative_to(PACKAGE / "web" / "templates"))
                for p in (PACKAGE / "web" / "templates").rglob("*.html")}
    assert expected <= set(report["templates"]), sorted(expected - set(report["templates"]))
    assert report["ok"]["/"] == 200 and report["ok"]["/static/longwatch.css"] == 200


#: Run by the installed interpreter: every template compiles, and every GET page answers below 500
#: for every role and for an anonymous visitor.
PAGES = r'''
import json, re, sys
from pathlib import Path

from flask import url_for
from jinja2 import TemplateNotFound

from longwatch.core import accounts
from longwatch.web import create_app

root, package_id = sys.argv[1], sys.argv[2]
app = create_app(root, {"TESTING": True})
archive = app.extensions["longwatch"]
row = archive.catalog.get(package_id)
values = {"package_id": package_id, "clip_id": row.clips[0].id, "upload_id": "0" * 32, "username": "operator",
          "filename": "longwatch.css", "token": "no-such-share", "share_id": 999999}
templates, missing = sorted(app.jinja_env.list_templates()), []
for name in templates:
    try:
        app.jinja_env.get_template(name)
    except TemplateNotFound:
        missing.append(name)
urls = []
with app.test_request_context():
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or ()) and all(a in values for a in rule.arguments):
            urls.append(url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
broken, ok = [], {}
csrf = re.compile(r'name="csrf_token" value="([^"]+)"')
for role in (None, *accounts.ROLES):
    client = app.test_client()
    if role:
        token = csrf.search(client.get("/login").get_data(as_text=True)).group(1)
        signed_in = client.post("/login", data={"username": role, "password": "correct horse battery",
                                                "csrf_token": token})
        assert signed_in.status_code == 302, (role, signed_in.status_code)
    for url in sorted(set(urls)):
        if url.endswith("/logout"):
            continue
        status = client.get(url).status_code
        if status >= 500:
            broken.append([role, url, status])
        if role == "administrator":
            ok[url] = status
archive.close()
print(json.dumps({"templates": templates, "templates_missing": missing, "broken": broken, "ok": ok,
                  "pages": len(set(urls))}))
'''
