"""Shared fixtures: isolation from the user's Keras cache and global state."""

import keras
import pytest


@pytest.fixture(autouse=True)
def isolated_keras(tmp_path_factory, monkeypatch):
    """Point every test at an empty Keras home and a clean global state.

    No test may read or write `~/.keras`; tests that need weight files
    generate them.
    """
    keras_home = tmp_path_factory.mktemp("keras_home")
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.delenv("KERAS_RESNETS_WEIGHTS_DIR", raising=False)
    monkeypatch.delenv("KERAS_RESNETS_WEIGHTS_URL", raising=False)
    data_format = keras.config.image_data_format()
    policy = keras.config.dtype_policy()
    keras.utils.clear_session()
    yield keras_home
    keras.config.set_image_data_format(data_format)
    keras.config.set_dtype_policy(policy)


@pytest.fixture(params=["channels_last", "channels_first"])
def data_format(request):
    """Run a test under each global image data format."""
    keras.config.set_image_data_format(request.param)
    return request.param
