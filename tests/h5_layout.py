"""Writers of weight files in the official keras.applications layout, for tests.

The official ResNet files were written by Keras 2.x ``save_weights`` to HDF5.
Keras 3 can no longer write that exact layout, so tests that need such a file
build it here with h5py from any built model.
"""

import h5py
import numpy as np

__all__ = ["write_keras2_h5"]


def write_keras2_h5(model, path, *, keras_version="2.2.4", backend="tensorflow"):
    """Write ``model``'s weights to ``path`` in the Keras 2.x HDF5 layout.

    The root has attributes ``layer_names`` (every layer, as bytes),
    ``backend`` and ``keras_version``. Each layer has a group with attribute
    ``weight_names`` (``"<layer>/<weight>:0"``, empty for layers without
    weights) and one dataset per weight at ``<group>/<weight name>``.

    Args:
        model: a built ``keras.Model``.
        path: ``str`` or ``pathlib.Path`` of the file to create (overwritten).
        keras_version: value of the ``keras_version`` root attribute.
        backend: value of the ``backend`` root attribute.

    Returns:
        The ``path`` argument, unchanged.
    """
    with h5py.File(path, "w") as h5_file:
        h5_file.attrs["layer_names"] = np.array(
            [layer.name.encode("utf-8") for layer in model.layers]
        )
        h5_file.attrs["backend"] = backend.encode("utf-8")
        h5_file.attrs["keras_version"] = keras_version.encode("utf-8")
        for layer in model.layers:
            group = h5_file.create_group(layer.name)
            weight_names = [
                f"{layer.name}/{variable.name}:0".encode("utf-8")
                for variable in layer.weights
            ]
            # An empty list would be stored as float64; Keras 2 wrote an
            # empty bytes array, which this mirrors.
            group.attrs["weight_names"] = np.array(weight_names, dtype="S")
            for weight_name, variable in zip(weight_names, layer.weights):
                group.create_dataset(
                    weight_name.decode("utf-8"), data=np.asarray(variable.numpy())
                )
    return path
