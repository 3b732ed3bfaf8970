"""Read Keras weight files and load them into a model by layer name.

Internal module: the public entry point is ``keras_resnets.weights.load_weights``.

Three layouts are read:

* Keras 2.x HDF5, as written by ``save_weights("x.h5")`` (the layout of the
  official keras.applications files) or inside ``model_weights`` of a full
  ``model.save("x.h5")``: root attribute ``layer_names``, one group per
  layer with attribute ``weight_names``, one dataset per weight name.
* Keras 3 ``.weights.h5``, as written by ``model.save_weights``: group
  ``layers/<key>/vars`` with datasets ``0``, ``1``, ... in the order of
  ``layer.weights``. Recent Keras 3 releases store the layer name in the
  ``name`` attribute of ``vars``. Older ones do not, so the key (the snake-case
  class name plus a counter) is matched instead.
* Keras 3 ``.keras`` archives (zip), whose ``model.weights.h5`` member has
  the ``.weights.h5`` layout.

The format is detected from the file's content, not from its name.
"""

import dataclasses
import io
import os
import pathlib
import re
import zipfile

import h5py
import numpy as np

__all__ = [
    "InvalidWeightsFileError",
    "WeightsMismatchError",
    "load_weights",
]

# Mismatches listed in full in an error message; the rest are counted.
_MAX_LISTED_MISMATCHES = 20

_KERAS_ARCHIVE_WEIGHTS_MEMBER = "model.weights.h5"


class WeightsMismatchError(ValueError):
    """Raised when a weights file does not fit the model it is loaded into.

    Attributes:
        path: the weights file.
        mismatches: one sentence per mismatch, in model layer order, then
            the layers that only the file contains.
    """

    def __init__(self, message, *, path, mismatches):
        super().__init__(message)
        self.path = path
        self.mismatches = list(mismatches)


class InvalidWeightsFileError(ValueError):
    """Raised when a file is not a readable Keras weights file.

    This covers files that are corrupt, truncated, not HDF5 or zip at all,
    or HDF5 files without a known Keras weights layout.

    Attributes:
        path: the file that could not be read.
    """

    def __init__(self, message, *, path):
        super().__init__(message)
        self.path = path


@dataclasses.dataclass(frozen=True)
class _FileLayer:
    """Weights of one layer as stored in a file."""

    name: str
    weight_names: tuple
    arrays: tuple


@dataclasses.dataclass(frozen=True)
class _FileWeights:
    """All layers with weights found in a file, in file order."""

    layout: str
    layers: tuple
    # True when layers are identified by Keras 3 save keys (``conv2d_3``)
    # because the file predates the ``name`` attribute.
    keyed_by_save_key: bool = False


def load_weights(model, path):
    """Load a weights file into ``model``, matching layers by name.

    Everything is read and checked before any weight is assigned, so a file
    that does not fit leaves the model exactly as it was. Layers without
    weights are ignored on both sides. Within a layer, weights are matched
    in order; Keras 2 and Keras 3 store Conv2D, BatchNormalization and
    Dense weights in the same order.

    Args:
        model: a built ``keras.Model``.
        path: ``str`` or ``os.PathLike`` naming a Keras 2.x HDF5 weights file
            (``.h5``), a Keras 3 ``.weights.h5`` file or a ``.keras`` archive.

    Raises:
        TypeError: if ``path`` is not a ``str`` or ``os.PathLike``.
        FileNotFoundError: if ``path`` does not exist.
        InvalidWeightsFileError: if the file is corrupt, truncated, not a
            Keras weights file, or stored with the Theano backend.
        WeightsMismatchError: if the file's layers or shapes do not fit the
            model. The message lists the mismatches, first one first.
    """
    path = _check_weights_path(path)
    file_weights = _read_weights_file(path)
    assignments = _match_layers(model, file_weights, path)
    for layer, arrays in assignments:
        layer.set_weights(arrays)


def _check_weights_path(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            "`path` must be a str or os.PathLike naming a weights file. "
            f"Received: path={path!r} of type {type(path).__name__}"
        )
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"Weights file not found: {path}. Check the path, or pass "
            "weights=None to build the model with random weights."
        )
    if not path.is_file():
        raise InvalidWeightsFileError(
            f"Weights path {path} is not a regular file. Pass the path of a "
            ".h5, .weights.h5 or .keras file.",
            path=path,
        )
    return path


def _read_weights_file(path):
    """Read every layer's weights from ``path`` into memory."""
    if zipfile.is_zipfile(path):
        return _read_keras_archive(path)
    try:
        with h5py.File(path, "r") as h5_file:
            return _read_h5_weights(h5_file, path)
    except OSError as error:
        # h5py raises OSError both for non-HDF5 files and for truncated
        # ones, either when opening or when reading a dataset.
        raise InvalidWeightsFileError(
            f"Cannot read weights file {path}: it is not a valid HDF5 file or "
            f"it is truncated or corrupt ({error}). Replace it with a complete "
            "copy of a .h5, .weights.h5 or .keras file.",
            path=path,
        ) from error


def _read_keras_archive(path):
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.namelist()
            if _KERAS_ARCHIVE_WEIGHTS_MEMBER not in members:
                raise InvalidWeightsFileError(
                    f"Zip file {path} is not a .keras model archive: it has no "
                    f"'{_KERAS_ARCHIVE_WEIGHTS_MEMBER}' member (members: "
                    f"{_short_list(members)}). Pass a file written by "
                    "model.save('name.keras').",
                    path=path,
                )
            weights_bytes = archive.read(_KERAS_ARCHIVE_WEIGHTS_MEMBER)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise InvalidWeightsFileError(
            f"Cannot read .keras archive {path}: it is truncated or corrupt "
            f"({error}). Replace it with a complete copy.",
            path=path,
        ) from error

    try:
        with h5py.File(io.BytesIO(weights_bytes), "r") as h5_file:
            return _read_h5_weights(h5_file, path)
    except OSError as error:
        raise InvalidWeightsFileError(
            f"Cannot read '{_KERAS_ARCHIVE_WEIGHTS_MEMBER}' inside .keras "
            f"archive {path}: it is not valid HDF5 ({error}). Replace the "
            "archive with a complete copy.",
            path=path,
        ) from error


def _read_h5_weights(h5_file, path):
    if "layer_names" in h5_file.attrs:
        return _read_keras2_layout(h5_file, path)
    model_weights = h5_file.get("model_weights")
    if isinstance(model_weights, h5py.Group) and "layer_names" in model_weights.attrs:
        return _read_keras2_layout(model_weights, path)
    if isinstance(h5_file.get("layers"), h5py.Group):
        return _read_keras3_layout(h5_file, path)
    raise InvalidWeightsFileError(
        f"HDF5 file {path} has no known Keras weights layout: expected a "
        "'layer_names' attribute (Keras 2.x .h5), a 'model_weights' group "
        "(Keras 2.x full model) or a 'layers' group (Keras 3 .weights.h5). "
        f"Top-level keys: {_short_list(list(h5_file.keys()))}. Pass a file "
        "written by Keras' save_weights or save.",
        path=path,
    )


def _read_keras2_layout(group, path):
    backend = _decode(group.attrs.get("backend", ""))
    if backend == "theano":
        # Theano stored convolution kernels flipped; loading them as they
        # are would give wrong outputs without any error.
        raise InvalidWeightsFileError(
            f"Weights file {path} was saved with the Theano backend, whose "
            "convolution kernels are flipped. Convert it with a Keras 2 "
            "installation and save it again with the TensorFlow backend.",
            path=path,
        )

    layers = []
    for layer_name in (_decode(name) for name in group.attrs["layer_names"]):
        layer_group = group.get(layer_name)
        if not isinstance(layer_group, h5py.Group):
            raise InvalidWeightsFileError(
                f"Weights file {path} lists layer '{layer_name}' in "
                "'layer_names' but has no group for it. The file is "
                "incomplete. Replace it with a complete copy.",
                path=path,
            )
        weight_names = tuple(
            _decode(name) for name in layer_group.attrs.get("weight_names", ())
        )
        if not weight_names:
            continue
        arrays = []
        for weight_name in weight_names:
            dataset = layer_group.get(weight_name)
            if not isinstance(dataset, h5py.Dataset):
                raise InvalidWeightsFileError(
                    f"Weights file {path} lists weight '{weight_name}' of "
                    f"layer '{layer_name}' but has no dataset for it. The "
                    "file is incomplete. Replace it with a complete copy.",
                    path=path,
                )
            arrays.append(np.asarray(dataset[()]))
        layers.append(
            _FileLayer(name=layer_name, weight_names=weight_names, arrays=tuple(arrays))
        )
    return _FileWeights(layout="Keras 2.x HDF5", layers=tuple(layers))


def _read_keras3_layout(h5_file, path):
    layers = []
    keyed_by_save_key = False
    for key, layer_group in h5_file["layers"].items():
        vars_group = layer_group.get("vars") if isinstance(layer_group, h5py.Group) else None
        if not isinstance(vars_group, h5py.Group):
            continue
        nested = [
            name
            for name, child in layer_group.items()
            if name != "vars" and isinstance(child, h5py.Group) and _holds_datasets(child)
        ]
        if nested:
            # NOTE: nested models and layers that own sub-layers are not
            # supported; the ResNet models are flat.
            raise InvalidWeightsFileError(
                f"Weights file {path} stores nested weights under layer "
                f"'{key}' ({_short_list(nested)}). Only flat models, whose "
                "layers own their weights directly, can be loaded by name. "
                "Use model.load_weights for nested models.",
                path=path,
            )
        weight_keys = _ordered_weight_keys(vars_group, path, key)
        if not weight_keys:
            continue
        name = vars_group.attrs.get("name")
        if name is None:
            keyed_by_save_key = True
            name = key
        arrays = tuple(np.asarray(vars_group[weight_key][()]) for weight_key in weight_keys)
        layers.append(
            _FileLayer(name=_decode(name), weight_names=tuple(weight_keys), arrays=arrays)
        )
    return _FileWeights(
        layout="Keras 3 .weights.h5",
        layers=tuple(layers),
        keyed_by_save_key=keyed_by_save_key,
    )


def _holds_datasets(group):
    def find_dataset(_, item):
        # A return value other than None stops the visit.
        return True if isinstance(item, h5py.Dataset) else None

    return group.visititems(find_dataset) is True


def _ordered_weight_keys(vars_group, path, layer_key):
    """Return the dataset names of ``vars_group`` (``0``, ``1``, ...) in numeric order."""
    for weight_key in vars_group.keys():
        if not weight_key.isdigit():
            raise InvalidWeightsFileError(
                f"Weights file {path} has an unexpected dataset "
                f"'layers/{layer_key}/vars/{weight_key}': Keras 3 names them "
                "0, 1, 2, ... Pass a file written by model.save_weights.",
                path=path,
            )
    return sorted(vars_group.keys(), key=int)


def _keras3_save_keys(model):
    """Map each layer's Keras 3 save key (``conv2d``, ``conv2d_1``, ...) to it.

    Keras 3 files written before the ``name`` attribute existed identify a
    layer only by this key: the snake-case class name, with ``_1``, ``_2``,
    ... appended to repeats in ``model.layers`` order.
    """
    counts = {}
    keys = {}
    for layer in model.layers:
        base = _snake_case(type(layer).__name__)
        if base in counts:
            counts[base] += 1
            key = f"{base}_{counts[base]}"
        else:
            counts[base] = 0
            key = base
        keys[key] = layer
    return keys


def _snake_case(class_name):
    words = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", words).lower()


def _match_layers(model, file_weights, path):
    """Pair each model layer with the file's arrays, or raise listing every mismatch."""
    if file_weights.keyed_by_save_key:
        model_layers = {
            key: layer for key, layer in _keras3_save_keys(model).items() if layer.weights
        }
    else:
        model_layers = {layer.name: layer for layer in model.layers if layer.weights}
    file_layers = {layer.name: layer for layer in file_weights.layers}

    mismatches = []
    assignments = []
    for name, layer in model_layers.items():
        label = _layer_label(name, layer, file_weights.keyed_by_save_key)
        file_layer = file_layers.get(name)
        if file_layer is None:
            mismatches.append(f"layer {label} is missing from the file")
            continue
        layer_mismatches = _compare_layer(label, layer, file_layer)
        if layer_mismatches:
            mismatches.extend(layer_mismatches)
        else:
            assignments.append((layer, list(file_layer.arrays)))
    for name, file_layer in file_layers.items():
        if name not in model_layers:
            mismatches.append(
                f"unexpected layer '{name}' in the file "
                f"({len(file_layer.arrays)} weights)"
            )

    if mismatches:
        listed = mismatches[:_MAX_LISTED_MISMATCHES]
        more = len(mismatches) - len(listed)
        lines = "\n".join(f"  - {mismatch}" for mismatch in listed)
        if more:
            lines += f"\n  ... and {more} more"
        noun = "mismatch" if len(mismatches) == 1 else "mismatches"
        raise WeightsMismatchError(
            f"Weights file {path} ({file_weights.layout}) does not fit model "
            f"'{model.name}': {len(mismatches)} {noun}, first: {mismatches[0]}.\n"
            f"{lines}\nThe model's weights were not changed. Build the model "
            "with the same architecture, include_top and classes as the model "
            "that saved the file.",
            path=path,
            mismatches=mismatches,
        )
    return assignments


def _layer_label(name, layer, keyed_by_save_key):
    if keyed_by_save_key:
        return f"'{layer.name}' (saved as '{name}')"
    return f"'{name}'"


def _compare_layer(label, layer, file_layer):
    model_weights = layer.weights
    if len(file_layer.arrays) != len(model_weights):
        return [
            f"layer {label} has {len(file_layer.arrays)} weights in the file "
            f"but {len(model_weights)} in the model"
        ]
    mismatches = []
    for variable, array, file_weight_name in zip(
        model_weights, file_layer.arrays, file_layer.weight_names
    ):
        model_shape = tuple(variable.shape)
        if tuple(array.shape) != model_shape:
            mismatches.append(
                f"layer {label} weight '{variable.name}': shape "
                f"{tuple(array.shape)} in the file ('{file_weight_name}') but "
                f"{model_shape} in the model"
            )
        elif array.dtype.kind not in "fiub":
            mismatches.append(
                f"layer {label} weight '{variable.name}': file dtype "
                f"{array.dtype} is not numeric"
            )
    return mismatches


def _decode(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def _short_list(items, limit=10):
    items = [str(item) for item in items]
    if len(items) > limit:
        return ", ".join(items[:limit]) + f", ... ({len(items)} in all)"
    return ", ".join(items) if items else "none"
