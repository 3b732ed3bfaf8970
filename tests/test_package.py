"""The package's public surface: lazy imports and exported names."""

import subprocess
import sys

import pytest

import keras_resnets


def _run_python(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )


def test_import_does_not_load_keras():
    result = _run_python(
        "import sys, keras_resnets; print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("name", keras_resnets.__all__)
def test_every_public_name_resolves(name):
    assert getattr(keras_resnets, name) is not None
    assert name in dir(keras_resnets)


def test_unknown_attribute_raises():
    with pytest.raises(AttributeError, match=r"has no attribute 'ResNet51'"):
        keras_resnets.ResNet51


def test_submodule_attribute():
    from keras_resnets import resnet

    assert keras_resnets.resnet is resnet
    assert keras_resnets.ResNet50 is resnet.ResNet50
