"""The measurements: inference throughput, training step, build and load time, threads, profile.

Every model has random weights (nothing is downloaded) and random
BatchNormalization statistics, so that the output differences reported next
to the timings mean something.
"""

import collections
import dataclasses
import glob
import json
import logging
import os
import subprocess
import sys

import h5py
import keras
import numpy as np
import tensorflow as tf

import keras_resnets
from benchmarks import machine, timing
from benchmarks.timing import time_alternating
from keras_resnets import weights as weights_lib
from keras_resnets.inference import Predictor, count_flops

logger = logging.getLogger(__name__)

REFERENCE = "keras.applications tf.function"
APPLICATIONS_PREDICT = "keras.applications predict"
OURS_PREDICT = "keras_resnets predict"
FAST_FLOAT32 = "fast path float32"
FAST_BFLOAT16 = "fast path bfloat16"
ONNX_RUNTIME = "ONNX Runtime (tf2onnx)"

ARCHITECTURES = ("ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2")


@dataclasses.dataclass
class InferenceResult:
    """Timings of every contender on one model at one batch size."""

    model_name: str
    batch_size: int
    flops_per_image: int
    timings: dict
    # Contender name -> max |output - reference output| / max |reference output|.
    differences: dict
    notes: dict


def randomize_statistics(model, seed=0):
    """Give every BatchNormalization of `model` random statistics, gamma and beta."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            size = layer.gamma.shape[0]
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, size),
                    rng.normal(0.0, 0.2, size),
                    rng.normal(0.0, 0.2, size),
                    rng.uniform(0.5, 2.0, size),
                ]
            )


def build_pair(model_name, input_shape, **options):
    """Build the keras.applications model and the keras_resnets model with the same weights."""
    reference = getattr(keras.applications, model_name)(weights=None, input_shape=input_shape, **options)
    randomize_statistics(reference)
    ours = getattr(keras_resnets, model_name)(weights=None, input_shape=input_shape, **options)
    # Both builders create the layers in the same order, so the weight lists line up.
    ours.set_weights(reference.get_weights())
    return reference, ours


def relative_difference(actual, expected):
    return float(np.max(np.abs(np.asarray(actual, dtype=np.float64) - expected)) / np.max(np.abs(expected)))


def _tf_function(model):
    @tf.function(jit_compile=False)
    def call(images):
        return model(images, training=False)

    return call


def _onnx_contender(folded_model, images):
    """Return a callable running `folded_model` in ONNX Runtime, or a note why there is none."""
    modules = machine.onnx_runtime_modules()
    if modules is None:
        return None, "not installed (tf2onnx and onnxruntime must both import)"
    tf2onnx, onnxruntime = modules
    # NOTE: this path has not run on the benchmark machine, because tf2onnx and
    # onnxruntime are not installed there. A conversion failure is reported in
    # the page instead of a timing.
    signature = (tf.TensorSpec(images.shape, tf.float32, name="images"),)
    serve = tf.function(lambda batch: folded_model(batch, training=False), input_signature=signature)
    try:
        proto, _ = tf2onnx.convert.from_function(serve, input_signature=signature, opset=17)
        session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception as error:  # tf2onnx raises many unrelated types on unsupported graphs.
        return None, f"conversion failed: {type(error).__name__}: {error}"
    input_name = session.get_inputs()[0].name
    return (lambda: session.run(None, {input_name: images})[0]), ""


def measure_inference(model_name, batch_sizes, image_size, repetitions, warmup, wait_for_quiet=False):
    """Time every inference contender on `model_name` at each batch size."""
    input_shape = (image_size, image_size, 3)
    # Logits instead of probabilities make the output differences meaningful;
    # a softmax over 1000 classes costs well under 1% of the model's time.
    reference, ours = build_pair(model_name, input_shape, classifier_activation=None)
    flops = count_flops(ours)
    reference_call = _tf_function(reference)
    results = []
    for batch_size in batch_sizes:
        logger.info("inference: %s batch %d", model_name, batch_size)
        images = np.random.default_rng(batch_size).uniform(-1.0, 1.0, (batch_size, *input_shape)).astype("float32")
        fast_float32 = Predictor(ours, precision="float32", batch_size=batch_size, configure_threads=False)
        fast_bfloat16 = Predictor(ours, precision="bfloat16", batch_size=batch_size, configure_threads=False)
        contenders = {
            APPLICATIONS_PREDICT: lambda: reference.predict(images, batch_size=batch_size, verbose=0),
            REFERENCE: lambda: reference_call(images).numpy(),
            OURS_PREDICT: lambda: ours.predict(images, batch_size=batch_size, verbose=0),
            FAST_FLOAT32: lambda: fast_float32.predict(images),
            FAST_BFLOAT16: lambda: fast_bfloat16.predict(images),
        }
        notes = {
            APPLICATIONS_PREDICT: f"jit_compile={reference.jit_compile}, run_eagerly={reference.run_eagerly}",
            OURS_PREDICT: f"jit_compile={ours.jit_compile}, run_eagerly={ours.run_eagerly}",
        }
        onnx_call, onnx_note = _onnx_contender(fast_float32.model, images)
        if onnx_call is not None:
            contenders[ONNX_RUNTIME] = onnx_call
        notes[ONNX_RUNTIME] = onnx_note

        expected = reference_call(images).numpy().astype(np.float64)
        differences = {name: relative_difference(call(), expected) for name, call in contenders.items()}
        timings = time_alternating(
            contenders, repetitions=repetitions, warmup=warmup, wait_for_quiet=wait_for_quiet
        )
        results.append(InferenceResult(model_name, batch_size, flops, timings, differences, notes))
    return results


def measure_training(model_name, batch_size, image_size, repetitions, warmup, wait_for_quiet=False):
    """Time one SGD training step (forward, backward, update) of both libraries' models."""
    logger.info("training: %s batch %d", model_name, batch_size)
    reference, ours = build_pair(model_name, (image_size, image_size, 3))
    rng = np.random.default_rng(0)
    images = rng.uniform(-1.0, 1.0, (batch_size, image_size, image_size, 3)).astype("float32")
    labels = rng.integers(0, 1000, batch_size)
    for model in (reference, ours):
        # The same explicit settings on both sides; XLA stays off as in Keras'
        # default for these models.
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=0.01),
            loss="sparse_categorical_crossentropy",
            jit_compile=False,
        )
    contenders = {
        "keras.applications": lambda: reference.train_on_batch(images, labels),
        "keras_resnets": lambda: ours.train_on_batch(images, labels),
    }
    return time_alternating(contenders, repetitions=repetitions, warmup=warmup, wait_for_quiet=wait_for_quiet)


def measure_build(architectures, input_shape, repetitions, warmup, wait_for_quiet=False):
    """Time building each architecture with weights=None in both libraries."""
    results = {}
    for name in architectures:
        logger.info("build: %s", name)
        contenders = {
            "keras.applications": lambda name=name: getattr(keras.applications, name)(
                weights=None, input_shape=input_shape
            ),
            "keras_resnets": lambda name=name: getattr(keras_resnets, name)(weights=None, input_shape=input_shape),
        }
        results[name] = time_alternating(
            contenders,
            repetitions=repetitions,
            warmup=warmup,
            setup=keras.utils.clear_session,
            wait_for_quiet=wait_for_quiet,
        )
    return results


def write_keras2_weights(model, path):
    """Write `model`'s weights in the layout of the official keras.applications HDF5 files.

    Root attributes `layer_names`, `backend` and `keras_version`; one group
    per layer with attribute `weight_names` ("<layer>/<weight>:0"), and one
    dataset per weight at that name inside the group.
    """
    with h5py.File(path, "w") as file:
        file.attrs["layer_names"] = np.array([layer.name.encode() for layer in model.layers])
        file.attrs["backend"] = b"tensorflow"
        file.attrs["keras_version"] = b"2.2.4"
        for layer in model.layers:
            group = file.create_group(layer.name)
            names = [f"{layer.name}/{variable.name}:0" for variable in layer.weights]
            group.attrs["weight_names"] = np.array([name.encode() for name in names], dtype="S")
            for name, variable in zip(names, layer.weights, strict=True):
                group.create_dataset(name, data=keras.ops.convert_to_numpy(variable))
    return path


def measure_load(model_name, input_shape, directory, repetitions, warmup, wait_for_quiet=False):
    """Time loading an official-layout HDF5 file: into a built model, and through the builder."""
    logger.info("load: %s", model_name)
    reference, ours = build_pair(model_name, input_shape)
    path = os.path.join(directory, f"{model_name.lower()}_weights_tf_dim_ordering_tf_kernels.h5")
    write_keras2_weights(reference, path)
    into_built = time_alternating(
        {
            "keras.applications model.load_weights": lambda: reference.load_weights(path),
            "keras_resnets weights.load_weights": lambda: weights_lib.load_weights(ours, path),
        },
        repetitions=repetitions,
        warmup=warmup,
        wait_for_quiet=wait_for_quiet,
    )
    through_builder = time_alternating(
        {
            f"keras.applications {model_name}(weights=path)": lambda: getattr(keras.applications, model_name)(
                weights=path, input_shape=input_shape
            ),
            f"keras_resnets {model_name}(weights=path)": lambda: getattr(keras_resnets, model_name)(
                weights=path, input_shape=input_shape
            ),
        },
        repetitions=repetitions,
        warmup=warmup,
        setup=keras.utils.clear_session,
        wait_for_quiet=wait_for_quiet,
    )
    return {"into a built model": into_built, "builder with weights=path": through_builder}


def thread_settings(cores):
    """Return the thread settings that `measure_threads` compares, most telling first.

    Maps a label to (intra-op, inter-op) threads, or to None for TensorFlow's
    own default.
    """
    return {
        "TensorFlow default (no call)": None,
        f"intra-op {cores}, inter-op 1 (Predictor default)": (cores, 1),
        "intra-op 1, inter-op 1": (1, 1),
        f"intra-op {cores}, inter-op {cores}": (cores, cores),
    }


def run_threads_probe(intra, inter, image_size, batch_size, repetitions, warmup, wait_for_quiet):
    """Time the float32 fast path in this fresh process and return seconds per call.

    Used by `measure_threads` in a subprocess: TensorFlow's thread pools can
    only be set before its runtime starts.
    """
    if intra is not None:
        from keras_resnets.inference import configure_cpu_threads

        if not configure_cpu_threads(intra_op_threads=intra, inter_op_threads=inter):
            raise RuntimeError("TensorFlow started before the thread pools could be set")
    model = keras_resnets.ResNet50(weights=None, input_shape=(image_size, image_size, 3))
    predictor = Predictor(model, batch_size=batch_size, configure_threads=False)
    images = np.zeros((batch_size, image_size, image_size, 3), dtype="float32")
    timing = time_alternating(
        {"probe": lambda: predictor.predict(images)},
        repetitions=repetitions,
        warmup=warmup,
        wait_for_quiet=wait_for_quiet,
    )
    return timing["probe"].seconds


def measure_threads(settings, image_size, batch_size, repetitions, warmup, rounds, wait_for_quiet=False):
    """Time the float32 fast path under each thread setting, one subprocess per setting and round.

    Args:
        settings: dict of label -> (intra-op, inter-op) or None, as from `thread_settings`.
    """
    results = {label: [] for label in settings}
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py")
    for round_index in range(rounds):
        labels = list(settings)
        shift = round_index % len(labels)
        for label in labels[shift:] + labels[:shift]:
            logger.info("threads: %s", label)
            command = [
                sys.executable,
                script,
                "--threads-probe",
                json.dumps(settings[label]),
                "--probe-shape",
                json.dumps([image_size, batch_size, repetitions, warmup, wait_for_quiet]),
            ]
            completed = subprocess.run(command, capture_output=True, text=True, check=False)
            if completed.returncode != 0:
                raise RuntimeError(
                    f"Thread probe {label!r} failed with exit code {completed.returncode}:\n{completed.stderr[-2000:]}"
                )
            results[label].extend(json.loads(completed.stdout.strip().splitlines()[-1]))
    return results


def profile_op_types(calls, directory, repetitions, wait_for_quiet=False):
    """Profile each callable and return {name: [(op type, milliseconds per call), ...]}.

    Each callable runs once untimed, then `repetitions` times under the
    profiler; the op times are averaged over those calls.

    Op times come from TensorFlow's profiler trace (XPlane). Ops of the
    same type are summed. Ops that ran at the same time on different threads
    are each counted, so the sum can exceed the wall time.
    Returns None when the XPlane reader of this TensorFlow build is missing.
    """
    try:
        from tensorflow.tsl.profiler.protobuf import xplane_pb2
    except ImportError:
        return None
    profiles = {}
    for index, (name, call) in enumerate(calls.items()):
        call()
        log_directory = os.path.join(directory, f"profile_{index}")
        if wait_for_quiet:
            machine.wait_for_quiet(timing.QUIET_SHARE, timing.QUIET_MAX_WAIT_SECONDS)
        tf.profiler.experimental.start(log_directory)
        for _ in range(repetitions):
            call()
        tf.profiler.experimental.stop()
        paths = glob.glob(os.path.join(log_directory, "**", "*.xplane.pb"), recursive=True)
        space = xplane_pb2.XSpace()
        with open(paths[-1], "rb") as file:
            space.ParseFromString(file.read())
        totals = collections.Counter()
        for plane in space.planes:
            for line in plane.lines:
                for event in line.events:
                    event_name = plane.event_metadata[event.metadata_id].name
                    # TensorFlow op events are named "<node name>:<op type>".
                    if ":" in event_name and "/" in event_name:
                        totals[event_name.rsplit(":", 1)[1]] += event.duration_ps / 1e9 / repetitions
        profiles[name] = totals.most_common()
    return profiles
