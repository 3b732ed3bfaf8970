"""Benchmark keras_resnets against keras.applications and write docs/benchmarks.md.

    python benchmarks/run.py            # full run: 4 models x 3 batch sizes
    python benchmarks/run.py --quick    # ResNet50 only, fewer repetitions (a few minutes)
    python benchmarks/run.py --smoke    # one tiny repetition of everything (the test suite)

Measures, side by side in one process: inference throughput (Keras predict,
a tf.function, the folded float32 and bfloat16 fast paths, ONNX Runtime when
installed), one training step, build time, HDF5 load time, thread-pool
settings and an op profile. Nothing is downloaded.
"""

import argparse
import dataclasses
import datetime
import json
import logging
import os
import shlex
import sys
import tempfile

# Run from a checkout: the repository root contains both `keras_resnets` and
# `benchmarks`.
_REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPOSITORY_ROOT)
# TensorFlow's C++ start-up messages would bury the progress log.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_OUTPUT = os.path.join(_REPOSITORY_ROOT, "docs", "benchmarks.md")


@dataclasses.dataclass(frozen=True)
class Plan:
    """Models, batch sizes and repetition counts of one run."""

    name: str
    inference_models: tuple
    batch_sizes: tuple
    image_size: int
    repetitions: int
    warmup: int
    training_models: tuple
    training_batch: int
    training_repetitions: int
    training_warmup: int
    build_architectures: tuple
    build_input_shape: tuple
    build_repetitions: int
    build_warmup: int
    load_models: tuple
    threads_batch: int
    threads_repetitions: int
    threads_rounds: int
    threads_settings: int
    matmul_size: int
    matmul_repetitions: int
    profile_batches: tuple
    profile_repetitions: int
    # Wait before each timed call until other processes are nearly idle.
    wait_for_quiet: bool


FULL = Plan(
    name="full",
    inference_models=("ResNet50", "ResNet101", "ResNet152", "ResNet50V2"),
    batch_sizes=(1, 8, 32),
    image_size=224,
    repetitions=7,
    warmup=2,
    training_models=("ResNet50", "ResNet50V2"),
    training_batch=16,
    training_repetitions=5,
    training_warmup=2,
    build_architectures=("ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2"),
    build_input_shape=(224, 224, 3),
    build_repetitions=5,
    build_warmup=1,
    load_models=("ResNet50", "ResNet50V2"),
    threads_batch=8,
    threads_repetitions=5,
    threads_rounds=2,
    threads_settings=4,
    matmul_size=4096,
    matmul_repetitions=10,
    profile_batches=(1, 32),
    profile_repetitions=3,
    wait_for_quiet=True,
)
QUICK = dataclasses.replace(
    FULL,
    name="quick",
    inference_models=("ResNet50",),
    training_models=("ResNet50",),
    training_repetitions=5,
    training_warmup=1,
    build_repetitions=3,
    load_models=("ResNet50",),
    threads_repetitions=3,
    threads_settings=3,
    matmul_repetitions=5,
)
# Every code path once, on 32x32 inputs: a few minutes on a loaded 2-core machine.
SMOKE = dataclasses.replace(
    QUICK,
    name="smoke",
    batch_sizes=(1, 2),
    image_size=32,
    repetitions=1,
    warmup=1,
    training_batch=2,
    training_repetitions=1,
    training_warmup=0,
    build_architectures=("ResNet50", "ResNet50V2"),
    build_input_shape=(32, 32, 3),
    build_repetitions=1,
    build_warmup=0,
    threads_batch=2,
    threads_repetitions=1,
    threads_rounds=1,
    threads_settings=1,
    matmul_size=256,
    matmul_repetitions=2,
    profile_batches=(1, 2),
    profile_repetitions=1,
    wait_for_quiet=False,
)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        description="Benchmark keras_resnets against keras.applications and write a Markdown page."
    )
    parser.add_argument("--quick", action="store_true", help="ResNet50 only and fewer repetitions (a few minutes).")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="One repetition of every measurement on 32x32 inputs, to check that the script runs.",
    )
    parser.add_argument(
        "--output", default=DEFAULT_OUTPUT, help=f"Path of the Markdown page to write. Default: {DEFAULT_OUTPUT}"
    )
    # Internal: one thread-pool measurement in a fresh process.
    parser.add_argument("--threads-probe", help=argparse.SUPPRESS)
    parser.add_argument("--probe-shape", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_probe(arguments):
    from benchmarks import suites

    setting = json.loads(arguments.threads_probe)
    intra, inter = setting if setting is not None else (None, None)
    image_size, batch_size, repetitions, warmup, wait_for_quiet = json.loads(arguments.probe_shape)
    seconds = suites.run_threads_probe(intra, inter, image_size, batch_size, repetitions, warmup, wait_for_quiet)
    print(json.dumps(seconds))


def measure_everything(plan, monitor):
    """Run every measurement of `plan` and return the context that the page is rendered from."""
    import keras

    import keras_resnets
    from benchmarks import machine, suites
    from keras_resnets.inference import configure_cpu_threads, count_flops

    # Before anything starts TensorFlow's runtime, so every contender shares
    # the pools that a Predictor would set up.
    cores = machine.cpu_description()["usable_cores"]
    configure_cpu_threads()
    context = {"threads": (cores, 1)}

    logging.info("matmul peak")
    peaks = [_matmul_peaks(plan)]

    context["inference"] = []
    for model_name in plan.inference_models:
        context["inference"] += suites.measure_inference(
            model_name, plan.batch_sizes, plan.image_size, plan.repetitions, plan.warmup, plan.wait_for_quiet
        )
        keras.utils.clear_session()

    context["training"] = {}
    for model_name in plan.training_models:
        context["training"][model_name] = suites.measure_training(
            model_name,
            plan.training_batch,
            plan.image_size,
            plan.training_repetitions,
            plan.training_warmup,
            plan.wait_for_quiet,
        )
        keras.utils.clear_session()

    context["build"] = suites.measure_build(
        plan.build_architectures, plan.build_input_shape, plan.build_repetitions, plan.build_warmup, plan.wait_for_quiet
    )
    with tempfile.TemporaryDirectory(prefix="keras_resnets_bench_") as directory:
        context["load_times"] = {
            model_name: suites.measure_load(
                model_name,
                plan.build_input_shape,
                directory,
                plan.build_repetitions,
                plan.build_warmup,
                plan.wait_for_quiet,
            )
            for model_name in plan.load_models
        }
        keras.utils.clear_session()

        logging.info("profile")
        context["profiles"] = _profile(plan, directory)

    settings = dict(list(suites.thread_settings(cores).items())[: plan.threads_settings])
    context["thread_probe"] = suites.measure_threads(
        settings,
        plan.image_size,
        plan.threads_batch,
        plan.threads_repetitions,
        plan.warmup,
        plan.threads_rounds,
        plan.wait_for_quiet,
    )

    # A peak measured while another process ran would be too low, so the
    # best of the measurements at the start and at the end counts.
    logging.info("matmul peak")
    peaks.append(_matmul_peaks(plan))
    context["peaks"] = {precision: max(found[precision] for found in peaks) for precision in peaks[0]}

    context["resnet50_flops"] = count_flops(keras_resnets.ResNet50(weights=None))
    context["cpu"] = machine.cpu_description()
    context["memory_gib"] = machine.memory_gib()
    context["versions"] = machine.versions()
    context["load"] = monitor.finish()
    return context


def _matmul_peaks(plan):
    """Return {precision: (best, median) GFLOP/s} of a large square tf.matmul."""
    from benchmarks import machine

    if plan.wait_for_quiet:
        machine.wait_for_quiet(0.25, 10.0)
    return {
        precision: machine.matmul_peak(plan.matmul_size, plan.matmul_repetitions, precision)
        for precision in ("float32", "bfloat16")
    }


def _profile(plan, directory):
    """Return {batch size: op-type profile per contender} for ResNet50, or None without a reader."""
    import numpy as np

    from benchmarks import suites
    from keras_resnets.inference import Predictor

    input_shape = (plan.image_size, plan.image_size, 3)
    reference, ours = suites.build_pair("ResNet50", input_shape, classifier_activation=None)
    reference_call = suites._tf_function(reference)
    profiles = {}
    for batch_size in plan.profile_batches:
        images = np.zeros((batch_size, *input_shape), dtype="float32")
        fast_float32 = Predictor(ours, batch_size=batch_size, configure_threads=False)
        fast_bfloat16 = Predictor(ours, precision="bfloat16", batch_size=batch_size, configure_threads=False)
        profile = suites.profile_op_types(
            {
                suites.REFERENCE: lambda: reference_call(images).numpy(),
                suites.FAST_FLOAT32: lambda: fast_float32.predict(images),
                suites.FAST_BFLOAT16: lambda: fast_bfloat16.predict(images),
            },
            os.path.join(directory, f"batch_{batch_size}"),
            plan.profile_repetitions,
            plan.wait_for_quiet,
        )
        if profile is None:
            return None
        profiles[batch_size] = profile
    return profiles


def main(argv=None):
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    if arguments.threads_probe is not None:
        run_probe(arguments)
        return 0

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from benchmarks import machine, report

    plan = FULL
    if arguments.quick:
        plan = QUICK
    if arguments.smoke:
        plan = SMOKE
    monitor = machine.LoadMonitor()
    started = datetime.datetime.now(datetime.timezone.utc)
    context = measure_everything(plan, monitor)
    context["plan"] = plan
    context["started"] = started.strftime("%Y-%m-%d %H:%M")
    context["finished"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    flags = [flag for flag in ("--quick", "--smoke") if getattr(arguments, flag[2:])]
    context["command"] = shlex.join(["python", "benchmarks/run.py", *flags])

    page = report.render_page(context)
    os.makedirs(os.path.dirname(os.path.abspath(arguments.output)), exist_ok=True)
    with open(arguments.output, "w", encoding="utf-8") as file:
        file.write(page)
    print(f"Wrote {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
