"""The `keras-resnets` command: classify images, summarize and export models.

Subcommands:

- `predict [IMAGE ...]`: top-k ImageNet classes of each image (with no
  image, of matplotlib's sample photo `grace_hopper.jpg`).
- `summary [MODEL ...]`: parameters, depth, FLOPs and weight files.
- `export MODEL OUT`: write a SavedModel, `.keras` or `.weights.h5` file,
  reload it and check that it reproduces the model.
- `weights ...`: list, fetch and verify pretrained weight files.

Exit status: 0 on success, 1 when the command fails (the message on stderr
explains why and what to do), 2 for invalid command-line usage.
"""

import argparse
import importlib.util
import json
import logging
import os
import sys
import traceback

# TensorFlow's C++ info and warning lines are noise on a command line. Set
# before anything imports TensorFlow; a value the user set wins.
# NOTE: TensorFlow 2.21 prints its oneDNN and CUDA notes before this setting
# is read, so those lines still appear.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

import keras_resnets
from keras_resnets import architectures
from keras_resnets.images import DEFAULT_CROP_FRACTION

__all__ = ["main", "build_parser"]

logger = logging.getLogger(__name__)

PROG = "keras-resnets"

# Errors a user can fix (bad path, bad image, missing weights, invalid
# option value, failed export check): printed as one message without a
# traceback. Anything else is a bug and keeps its traceback.
_USER_ERRORS = (ValueError, OSError, RuntimeError)


def _model_names():
    return ", ".join(row.default_name for row in architectures.ARCHITECTURES.values())


def _names_with_official_weights():
    rows = architectures.ARCHITECTURES.values()
    return ", ".join(row.default_name for row in rows if row.weights_key is not None)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _crop_fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], got {text!r}")
    return value


def _add_crop_fraction_option(parser):
    parser.add_argument(
        "--crop-fraction",
        type=_crop_fraction,
        default=DEFAULT_CROP_FRACTION,
        metavar="F",
        help=(
            "fraction of the largest centered box (with the model's aspect "
            "ratio) that is resized to the model's input size; 0.875, the "
            "default, is the usual ImageNet center crop, 1 keeps the whole box"
        ),
    )


def _add_predict_parser(subparsers):
    parser = subparsers.add_parser(
        "predict",
        help="classify images and print the top-k ImageNet classes",
        description=(
            "Classify images with a pretrained model and print the top-k "
            "classes of each as 'wnid name score'. Each image is center-cropped "
            "and resized to the model's input size (see --crop-fraction), "
            "converted to RGB and preprocessed with the model's own mode. "
            "Without IMAGE, classifies matplotlib's sample photo "
            "grace_hopper.jpg."
        ),
    )
    parser.add_argument(
        "images", nargs="*", metavar="IMAGE", help="image files (JPEG, PNG, ... of any size and mode)"
    )
    parser.add_argument(
        "--model",
        default="resnet50",
        help=f"model name (default: resnet50); one of: {_model_names()}",
    )
    parser.add_argument(
        "--weights",
        default="imagenet",
        help=(
            "'imagenet' for the official weights (found locally or downloaded; "
            "see `keras-resnets weights`) or the path of a weights file "
            "(.h5, .weights.h5 or .keras); default: imagenet"
        ),
    )
    parser.add_argument(
        "--labels",
        metavar="JSON",
        help=(
            "class index file mapping '0', '1', ... to [wnid, name], in the "
            "layout of imagenet_class_index.json; its length sets the number "
            "of classes (default: the official ImageNet class index)"
        ),
    )
    parser.add_argument(
        "--top", type=_positive_int, default=5, help="classes to print per image (default: 5)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document instead of text"
    )
    parser.add_argument(
        "--batch-size",
        type=_positive_int,
        default=32,
        help="images per model call (default: 32)",
    )
    parser.add_argument(
        "--precision",
        choices=("float32", "bfloat16"),
        default="float32",
        help="compute precision of the model body (default: float32)",
    )
    _add_crop_fraction_option(parser)
    parser.set_defaults(func=_run_predict)


def _add_summary_parser(subparsers):
    parser = subparsers.add_parser(
        "summary",
        help="print parameters, depth, FLOPs and weight files of models",
        description=(
            "Print one table per model: parameters (total, trainable, "
            "non-trainable), layers, depth (convolution and Dense layers on "
            "the longest path), multiply-adds and FLOPs (2 x multiply-adds) "
            "of one image at the default input size, input and output shape, "
            "preprocessing mode and registered weight files. Models are built "
            "with random weights; nothing is downloaded."
        ),
    )
    parser.add_argument(
        "models",
        nargs="*",
        metavar="MODEL",
        help=f"model names (default: every model); any of: {_model_names()}",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON list instead of tables"
    )
    parser.set_defaults(func=_run_summary)


def _add_export_parser(subparsers):
    from keras_resnets import export

    parser = subparsers.add_parser(
        "export",
        help="export a model as SavedModel, .keras or .weights.h5 and verify it",
        description=(
            "Build a model, write it to OUT, reload the artifact and check "
            "that it reproduces the model on random images; the max abs "
            "difference and the tolerance are printed, and the exit status "
            f"is 1 if they do not match. A SavedModel has the signature "
            f"'{export.SERVING_SIGNATURE}' taking '{export.INPUT_NAME}' and "
            f"returning '{export.OUTPUT_NAME}'."
        ),
    )
    parser.add_argument("model", metavar="MODEL", help=f"model name; one of: {_model_names()}")
    parser.add_argument(
        "output",
        metavar="OUT",
        help="output path: a folder for a SavedModel, NAME.keras or NAME.weights.h5",
    )
    parser.add_argument(
        "--weights",
        default="imagenet",
        help="'imagenet' (default), 'none' for random weights, or the path of a weights file",
    )
    parser.add_argument(
        "--format",
        choices=export.FORMATS,
        help="artifact format (default: from OUT: .keras, .weights.h5, else savedmodel)",
    )
    parser.add_argument(
        "--include-preprocessing",
        action="store_true",
        help=(
            "SavedModel only: take raw uint8 RGB images of any size and "
            "center-crop, resize and preprocess them inside the graph"
        ),
    )
    parser.add_argument(
        "--optimize",
        action="store_true",
        help="fold BatchNormalization into the convolutions before exporting",
    )
    parser.add_argument(
        "--no-top",
        dest="include_top",
        action="store_false",
        help="leave out the classifier (include_top=False)",
    )
    parser.add_argument(
        "--pooling",
        choices=("avg", "max"),
        help="with --no-top: global pooling of the last feature map",
    )
    parser.add_argument(
        "--image-size",
        type=_positive_int,
        metavar="PIXELS",
        help="input height and width (default: the model's default size)",
    )
    _add_crop_fraction_option(parser)
    parser.add_argument(
        "--overwrite", action="store_true", help="replace OUT if it exists"
    )
    parser.set_defaults(func=_run_export)


def _add_weights_parser(subparsers):
    # The weights command lives in its own module, which may be absent from
    # a partial installation; the other commands work without it.
    if importlib.util.find_spec("keras_resnets.weights_cli") is None:
        logger.debug("keras_resnets.weights_cli not found: no `weights` command")
        return
    from keras_resnets import weights_cli

    weights_cli.register(subparsers)


def build_parser():
    """Return the `argparse.ArgumentParser` of the `keras-resnets` command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "ResNet models on Keras 3: classify images, summarize and export "
            "models, manage pretrained weights."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {keras_resnets.__version__}"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log progress (-v) or debug details (-vv) on stderr",
    )
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="print the full traceback of an error, for bug reports",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_predict_parser(subparsers)
    _add_summary_parser(subparsers)
    _add_export_parser(subparsers)
    _add_weights_parser(subparsers)
    return parser


def _read_class_index(path):
    """Read a class index JSON file into a list of (wnid, name) by class id."""
    try:
        with open(path, encoding="utf-8") as file:
            index = json.load(file)
    except FileNotFoundError:
        raise ValueError(
            f"Class index file not found: {path}. Pass the path of a JSON file "
            "in the layout of imagenet_class_index.json."
        ) from None
    except json.JSONDecodeError as error:
        raise ValueError(
            f"Class index {path} is not valid JSON ({error}). Pass a file in "
            "the layout of imagenet_class_index.json."
        ) from error

    expected_keys = [str(i) for i in range(len(index))] if isinstance(index, dict) else []
    if not expected_keys or set(index) != set(expected_keys):
        raise ValueError(
            f"Class index {path} must be a JSON object mapping '0', '1', ..., "
            "'N-1' to [wnid, name], like imagenet_class_index.json. Received: "
            f"{type(index).__name__} with keys {_preview(index)}"
        )
    labels = []
    for key in expected_keys:
        entry = index[key]
        if not (
            isinstance(entry, list) and len(entry) == 2 and all(isinstance(part, str) for part in entry)
        ):
            raise ValueError(
                f"Class index {path}: entry {key!r} must be a [wnid, name] pair of "
                f"strings. Received: {entry!r}"
            )
        labels.append(tuple(entry))
    return labels


def _preview(index):
    if not isinstance(index, dict):
        return "none"
    keys = [repr(key) for key in list(index)[:5]]
    if len(index) > 5:
        keys.append(f"... ({len(index)} in all)")
    return ", ".join(keys) or "none"


def _top_classes(scores, labels, top):
    # A stable sort keeps ties in class order, like decode_predictions.
    order = np.argsort(-scores, kind="stable")[:top]
    return [(*labels[i], float(scores[i])) for i in order]


def _predict_weights(architecture, weights):
    """Return the weights argument for the builder: a verified local path or the given path."""
    from keras_resnets import weights as weights_lib

    if weights.lower() == "none":
        raise ValueError(
            "predict needs trained weights, but --weights none would classify "
            "with random ones. Pass --weights imagenet or the path of a "
            "weights file."
        )
    if weights != "imagenet":
        return weights
    if architecture.weights_key is None:
        raise ValueError(
            f"{architecture.default_name} has no official ImageNet weights. Pass "
            "--weights with the path of a weights file for it, or pick a model "
            f"that has them: {_names_with_official_weights()}."
        )
    entry = weights_lib.imagenet_weights_file(architecture.weights_key, include_top=True)
    return weights_lib.get_weights_file(entry)


def _print_predictions(results, *, model_name, weights, as_json):
    if as_json:
        document = {
            "model": model_name,
            "weights": weights,
            "results": [
                {
                    "image": image,
                    "predictions": [
                        {"wnid": wnid, "name": name, "score": score}
                        for wnid, name, score in predictions
                    ],
                }
                for image, predictions in results
            ],
        }
        print(json.dumps(document, indent=2))
        return
    for image, predictions in results:
        print(image)
        for wnid, name, score in predictions:
            print(f"  {wnid} {name} {score:.4f}")


def _run_predict(args):
    from keras_resnets import imagenet_utils, inference
    from keras_resnets import images as images_lib
    from keras_resnets import weights as weights_lib
    from keras_resnets.builder import build_model

    architecture = architectures.get_architecture(args.model)
    paths = args.images or [images_lib.sample_image_path()]
    size = (architecture.default_size, architecture.default_size)

    # Cheap checks first: a bad image, missing weights or a missing class
    # index fail before the model is built. The weights come before the
    # class index because they are the error a first offline run should
    # report.
    batch = np.stack(
        [images_lib.load_image(path, size, crop_fraction=args.crop_fraction) for path in paths]
    )
    weights = _predict_weights(architecture, args.weights)
    if args.labels is None and architecture.default_classes != imagenet_utils.IMAGENET_CLASSES:
        raise ValueError(
            f"{architecture.default_name} has {architecture.default_classes} "
            "classes, so the ImageNet class names do not apply. Pass --labels "
            "with a JSON file that maps '0', '1', ... to [id, name] for its classes."
        )
    labels = _read_class_index(args.labels or weights_lib.class_index_path())
    if args.top > len(labels):
        raise ValueError(
            f"--top must be at most the number of classes, {len(labels)}. "
            f"Received: --top {args.top}"
        )

    # TensorFlow fixes its thread pools at its first operation, which
    # building the model runs.
    inference.configure_cpu_threads()
    model = build_model(architecture, weights=weights, classes=len(labels))
    predictor = inference.Predictor(
        model,
        precision=args.precision,
        batch_size=min(args.batch_size, len(paths)),
        preprocessing=architecture.preprocessing,
        configure_threads=False,
    )

    inputs = imagenet_utils.preprocess_input(
        batch, data_format="channels_last", mode=architecture.preprocessing
    )
    if predictor.data_format == "channels_first":
        inputs = np.transpose(inputs, (0, 3, 1, 2))
    scores = predictor.predict(inputs)

    results = [
        (str(path), _top_classes(row, labels, args.top)) for path, row in zip(paths, scores)
    ]
    _print_predictions(
        results, model_name=architecture.default_name, weights=args.weights, as_json=args.json
    )
    return 0


def _run_summary(args):
    from keras_resnets import summary

    names = args.models or [row.default_name for row in architectures.ARCHITECTURES.values()]
    # Resolve every name before building anything, so a typo fails at once.
    rows = [architectures.get_architecture(name) for name in names]
    summaries = []
    for row in rows:
        summaries.append(summary.summarize_architecture(row.builder))
        if not args.json:
            if len(summaries) > 1:
                print()
            print(summary.format_summary(summaries[-1]), flush=True)
    if args.json:
        print(json.dumps([item.to_dict() for item in summaries], indent=2))
    return 0


def _run_export(args):
    from keras_resnets import export
    from keras_resnets.builder import build_model

    architecture = architectures.get_architecture(args.model)
    export_format = args.format or export.format_from_path(args.output)
    # Option checks come before the model is built, so mistakes fail fast.
    if args.pooling is not None and args.include_top:
        raise ValueError("--pooling applies only with --no-top. Add --no-top or drop --pooling.")
    if args.include_preprocessing and export_format != "savedmodel":
        raise ValueError(
            "--include-preprocessing works only in SavedModels, because .keras and "
            ".weights.h5 files store Keras layers only. Drop the option or use "
            f"--format savedmodel. Received: --format {export_format}"
        )
    export.check_output_path(args.output, overwrite=args.overwrite)
    weights = None if args.weights.lower() == "none" else args.weights
    if weights == "imagenet" and architecture.weights_key is None:
        raise ValueError(
            f"{architecture.default_name} has no official ImageNet weights. Pass "
            "--weights none for random weights or --weights with the path of a "
            f"weights file, or pick a model that has them: {_names_with_official_weights()}."
        )
    input_shape = None
    if args.image_size is not None:
        input_shape = (args.image_size, args.image_size, 3)

    model = build_model(
        architecture,
        weights=weights,
        include_top=args.include_top,
        pooling=args.pooling,
        input_shape=input_shape,
        classes=architecture.default_classes,
    )
    exported = model
    if args.optimize:
        from keras_resnets.inference import optimize_for_inference

        exported = optimize_for_inference(model)

    verification = export.export_model(
        exported,
        args.output,
        export_format=export_format,
        include_preprocessing=args.include_preprocessing,
        preprocessing=architecture.preprocessing,
        crop_fraction=args.crop_fraction,
        overwrite=args.overwrite,
        reference_model=model,
    )
    print(f"Exported {model.name} (weights: {args.weights}) to {args.output} as {export_format}")
    if export_format == "savedmodel":
        print(
            "Signature: "
            + export.describe_signature(exported, include_preprocessing=args.include_preprocessing)
        )
    print("Verified against the in-memory model:")
    print(verification.describe())
    return 0


def _configure_logging(verbosity):
    level = logging.WARNING
    if verbosity == 1:
        level = logging.INFO
    elif verbosity >= 2:
        level = logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("keras_resnets").setLevel(level)


def main(argv=None):
    """Run the `keras-resnets` command and return its exit status.

    Args:
        argv: arguments after the program name; default `sys.argv[1:]`.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        return args.func(args)
    except _USER_ERRORS as error:
        if args.traceback:
            traceback.print_exc()
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
