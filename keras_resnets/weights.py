"""Pretrained weight files: registry, local search, verified download, loading.

``REGISTRY`` lists every file the package can fetch: the official
keras.applications ResNet weights and the ImageNet class index, under their
official names, URLs and MD5 hashes. ``get_weights_file`` looks for a file in
this order:

1. the folder named by ``KERAS_RESNETS_WEIGHTS_DIR``, if set;
2. the Keras cache ``$KERAS_HOME/models`` (default ``~/.keras/models``),
   shared with keras.applications;
3. a download from the official URL, or from the mirror whose base URL is
   ``KERAS_RESNETS_WEIGHTS_URL``. ``KERAS_RESNETS_OFFLINE=1`` skips this step.

Every file is checked against its registered hash before use, wherever it
came from. ``load_weights`` loads a Keras 2.x ``.h5``, Keras 3
``.weights.h5`` or ``.keras`` file into a model by layer name.
"""

import dataclasses

from keras_resnets.weights_download import (
    WeightsUnavailableError,
    cache_dir,
    download_url,
    find_local_file,
    get_weights_file,
)
from keras_resnets.weights_loading import (
    InvalidWeightsFileError,
    WeightsMismatchError,
    load_weights,
)

__all__ = [
    "CLASS_INDEX_FILE",
    "REGISTRY",
    "InvalidWeightsFileError",
    "WeightFile",
    "WeightsMismatchError",
    "WeightsUnavailableError",
    "cache_dir",
    "class_index_path",
    "download_url",
    "find_local_file",
    "get_weights_file",
    "imagenet_weights_file",
    "load_weights",
]

_HASH_ALGORITHMS = ("md5", "sha256")
_HEX_DIGEST_LENGTHS = {"md5": 32, "sha256": 64}


@dataclasses.dataclass(frozen=True)
class WeightFile:
    """One downloadable file and what identifies it.

    Attributes:
        file_name: name of the file in every folder and on the server.
        url: official download URL.
        file_hash: expected hex digest of the whole file.
        hash_algorithm: ``"md5"`` or ``"sha256"``.
        model: weights key of the model (e.g. ``"resnet50"``), or None for
            a file that is not model weights (the ImageNet class index).
        include_top: whether the weights include the classifier, or None
            for a file that is not model weights.
        size: file size in bytes, or None where it is not known for certain.
    """

    file_name: str
    url: str
    file_hash: str
    hash_algorithm: str = "md5"
    model: str = None
    include_top: bool = None
    size: int = None

    def __post_init__(self):
        if self.hash_algorithm not in _HASH_ALGORITHMS:
            raise ValueError(
                f"`hash_algorithm` must be one of {_HASH_ALGORITHMS}. "
                f"Received: hash_algorithm={self.hash_algorithm!r}"
            )
        expected_length = _HEX_DIGEST_LENGTHS[self.hash_algorithm]
        if len(self.file_hash) != expected_length or not _is_hex(self.file_hash):
            raise ValueError(
                f"`file_hash` must be a {expected_length}-digit hex "
                f"{self.hash_algorithm} digest. Received: file_hash={self.file_hash!r}"
            )
        if "/" in self.file_name or self.file_name in ("", ".", ".."):
            raise ValueError(
                "`file_name` must be a plain file name without folders. "
                f"Received: file_name={self.file_name!r}"
            )


def _is_hex(text):
    return all(character in "0123456789abcdefABCDEF" for character in text)


# Official ResNet weights: the file names, URLs and MD5 hashes that
# keras.applications (Keras 3.15.1, applications/resnet.py) downloads and
# checks. They are a compatibility contract: a file that keras.applications
# already put in the Keras cache is found here under the same name.
_RESNET_BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
_RESNET_FILE_NAME = "{key}_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
_RESNET_MD5_HASHES = {
    # key: (with top, without top)
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}

# The class index that keras.applications' decode_predictions downloads into
# the same `models` cache folder (Keras 3.15.1, applications/imagenet_utils.py).
CLASS_INDEX_FILE = WeightFile(
    file_name="imagenet_class_index.json",
    url="https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json",
    file_hash="c2c37ea517e94d9795004a39431a14cb",
    hash_algorithm="md5",
)


def _resnet_entries():
    for key, (top_hash, no_top_hash) in _RESNET_MD5_HASHES.items():
        for include_top, file_hash in ((True, top_hash), (False, no_top_hash)):
            file_name = _RESNET_FILE_NAME.format(
                key=key, suffix="" if include_top else "_notop"
            )
            yield WeightFile(
                file_name=file_name,
                url=_RESNET_BASE_URL + file_name,
                file_hash=file_hash,
                hash_algorithm="md5",
                model=key,
                include_top=include_top,
            )


# NOTE: `size` is None for every official file because the exact byte
# counts were not confirmed against the official bucket.
REGISTRY = {
    entry.file_name: entry for entry in (*_resnet_entries(), CLASS_INDEX_FILE)
}


def imagenet_weights_file(weights_key, include_top):
    """Return the registry entry of a model's ImageNet weights.

    Args:
        weights_key: the model's weights key, e.g. ``"resnet50"``.
        include_top: True for the file with the classifier, False for the
            file without it.

    Returns:
        The ``WeightFile`` from ``REGISTRY``.

    Raises:
        ValueError: if no registered file matches.
    """
    for entry in REGISTRY.values():
        if entry.model == weights_key and entry.include_top == bool(include_top):
            return entry
    known = sorted({entry.model for entry in REGISTRY.values() if entry.model})
    raise ValueError(
        "No ImageNet weights are registered for "
        f"weights_key={weights_key!r} with include_top={bool(include_top)}. "
        f"Registered weights keys: {', '.join(known)}. Pass weights=None or "
        "the path to a weights file instead."
    )


def class_index_path():
    """Return the local path of the ImageNet class index JSON file.

    The file is found, verified or downloaded like the weight files.

    Raises:
        WeightsUnavailableError: if the file can be neither found nor
            downloaded.
    """
    return get_weights_file(CLASS_INDEX_FILE)
