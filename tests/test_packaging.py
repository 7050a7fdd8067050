"""Both a normal (wheel) install and the editable install resolve bnn_lq, bnn_lq.zoo
(folder zoo/) and bnn_lq.convert (folder convert/)."""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECK = ("import bnn_lq, bnn_lq.zoo, bnn_lq.convert, bnn_lq.interpreter, bnn_lq.convert.graph;"
         "print(bnn_lq.__file__); print(bnn_lq.zoo.__file__); print(bnn_lq.convert.__file__);"
         "import bnn_lq.zoo.registry, bnn_lq.convert.flatbuffer;"
         "import importlib.resources as r;"
         "print(any(p.name == 'model.keras' for d in r.files('bnn_lq').joinpath('pretrained')"
         ".iterdir() for p in d.iterdir()))")


def _run(env_path, cwd):
    env = {"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"}
    if env_path:
        env["PYTHONPATH"] = str(env_path)
    out = subprocess.run([sys.executable, "-c", CHECK], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.split()


def test_editable_install_resolves_the_three_packages(tmp_path):
    files = _run(None, tmp_path)
    assert files[0] == str(ROOT / "bnn_lq" / "__init__.py")
    assert files[1] == str(ROOT / "zoo" / "__init__.py")
    assert files[2] == str(ROOT / "convert" / "__init__.py")
    assert files[3] == "True"


@pytest.mark.slow
def test_wheel_install_resolves_the_three_packages(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(ROOT)], check=True, capture_output=True,
                   timeout=600)
    (wheel,) = wheels.glob("bnn_lq-*.whl")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=600)
    files = _run(target, tmp_path)
    for f in files[:3]:
        assert f.startswith(str(target)), files
    assert files[1].endswith("bnn_lq/zoo/__init__.py")
    assert files[2].endswith("bnn_lq/convert/__init__.py")
    assert files[3] == "True", "the pretrained model ships in the wheel"
