"""platform/ is a source root, not a package: the standard library's `platform` module must
still be the one that pytest, the web process and the worker import."""

import platform
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.processes import ROOT, VENV_BIN, base_env

STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()


def test_pytest_imports_the_standard_library_platform_module():
    assert Path(platform.__file__).resolve().parent == STDLIB
    assert platform.system() == "Linux"


def test_web_process_entry_point_keeps_the_standard_library_platform_module():
    code = "import config.wsgi, platform, uuid; print(platform.__file__); print(platform.system())"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base_env(), capture_output=True, text=True, check=True
    ).stdout.split()
    assert Path(out[0]).resolve().parent == STDLIB
    assert out[1] == "Linux"


def test_worker_entry_point_loads_the_app_and_the_standard_library_platform_module():
    # `celery -A config report` loads the app as the worker does and prints platform.system().
    out = subprocess.run(
        [str(VENV_BIN / "celery"), "-A", "config", "report"], cwd=ROOT, env=base_env(), capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "system:Linux" in out.stdout
    assert not (ROOT / "platform" / "__init__.py").exists()
