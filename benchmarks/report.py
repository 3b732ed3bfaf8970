"""Render the benchmark results as the Markdown page docs/benchmarks.md."""

from benchmarks import suites
from benchmarks.timing import QUIET_MAX_WAIT_SECONDS, QUIET_SHARE, paired_ratio

# Targets, all on ResNet50 and as ratios of median times.
FLOAT32_TARGET = 1.2
BFLOAT16_TARGET = 1.5
# "Within 3%" and "no slower": keras_resnets' median time at most 3% above
# keras.applications'. Run-to-run noise on a shared 2-core machine is of
# that order, so a strict "no slower" would flag noise.
PARITY_LIMIT = 1.03
# A Keras `predict` this much slower than the tf.function reference is
# flagged as running in a slow mode.
SLOW_PREDICT_RATIO = 0.9
TARGET_MODEL = "ResNet50"
# Convolutions that would need this share of the float32 matmul peak or more
# count as out of reach for float32.
NEAR_PEAK = 0.9


def _format_rate(value):
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _format_seconds(value):
    return f"{value * 1000:.0f} ms" if value < 10 else f"{value:.1f} s"


def _ratio(reference_timing, timing):
    """Return the speed of `timing` relative to `reference_timing` (above 1 is faster), paired by round."""
    return paired_ratio(reference_timing, timing)


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _inference_by_key(inference):
    return {(result.model_name, result.batch_size): result for result in inference}


def _inference_section(inference, peaks):
    parts = ["## Inference throughput", ""]
    parts.append(
        "Images per second per contender: the median over the repetitions, then the "
        "slowest and fastest repetition. *Speed* is the median over rounds of the reference's "
        "time divided by the contender's time in the same round (above 1.00 is faster than the "
        "reference, `keras.applications` called in a `tf.function`); *speed (fastest)* divides "
        "the fastest repetitions instead. *Others* is the mean share of the machine that other "
        "processes used during the contender's timed calls. *GFLOP/s* uses the model's counted FLOPs; "
        "*% of fp32 peak* compares it with the measured float32 matmul peak, for every row. "
        "*Output difference* is max |output - reference output| / max "
        "|reference output| on the timed batch (logits, random weights)."
    )
    models = []
    for result in inference:
        if result.model_name not in models:
            models.append(result.model_name)
    for model_name in models:
        rows = []
        for result in inference:
            if result.model_name != model_name:
                continue
            reference = result.timings[suites.REFERENCE]
            for contender, timing in result.timings.items():
                rates = [result.batch_size / seconds for seconds in timing.seconds]
                median_rate = result.batch_size / timing.median
                gflops = result.flops_per_image * median_rate / 1e9
                speed = _ratio(reference, timing)
                fastest_speed = reference.fastest / timing.fastest
                note = result.notes.get(contender, "")
                if contender in (suites.APPLICATIONS_PREDICT, suites.OURS_PREDICT) and speed < SLOW_PREDICT_RATIO:
                    extra = (timing.median - reference.median) * 1000
                    note = f"**slow mode**: {extra:.0f} ms per call above the reference ({note})"
                rows.append(
                    [
                        result.batch_size,
                        contender,
                        _format_rate(median_rate),
                        f"{_format_rate(min(rates))}-{_format_rate(max(rates))}",
                        f"{speed:.2f}x",
                        f"{fastest_speed:.2f}x",
                        f"{100 * timing.mean_others:.0f}%",
                        f"{gflops:.0f}",
                        f"{100 * gflops / peaks['float32'][0]:.0f}%",
                        f"{result.differences[contender]:.1e}",
                        note,
                    ]
                )
            if suites.ONNX_RUNTIME not in result.timings:
                rows.append(
                    [result.batch_size, suites.ONNX_RUNTIME, *["-"] * 8, result.notes[suites.ONNX_RUNTIME]]
                )
        flops = next(result.flops_per_image for result in inference if result.model_name == model_name)
        parts += [
            "",
            f"### {model_name} ({flops / 1e9:.2f} GFLOP per image)",
            "",
            _table(
                [
                    "batch",
                    "contender",
                    "images/s",
                    "min-max",
                    "speed",
                    "speed (fastest)",
                    "others",
                    "GFLOP/s",
                    "% of fp32 peak",
                    "output difference",
                    "note",
                ],
                rows,
            ),
        ]
    return "\n".join(parts)


def _pair_rows(label, timings, images_per_call=None):
    reference = timings["keras.applications"]
    ours = timings["keras_resnets"]
    row = [label]
    for timing in (reference, ours):
        row.append(
            f"{_format_seconds(timing.median)} ({_format_seconds(timing.fastest)}-{_format_seconds(timing.slowest)})"
        )
    if images_per_call is not None:
        row.append(_format_rate(images_per_call / ours.median))
    row.append(f"{paired_ratio(ours, reference):.3f}")
    return row


def _training_section(training, batch_size):
    rows = [_pair_rows(name, timings, images_per_call=batch_size) for name, timings in training.items()]
    return "\n".join(
        [
            "## Training step",
            "",
            f"One `train_on_batch` at batch {batch_size} (forward, backward, SGD update; "
            "`jit_compile=False` on both). Times are median (fastest-slowest); *time ratio* is "
            "the median over rounds of keras_resnets' time / keras.applications' time in the same "
            "round (below 1 is faster).",
            "",
            _table(
                ["model", "keras.applications", "keras_resnets", "keras_resnets images/s", "time ratio"],
                rows,
            ),
        ]
    )


def _build_section(build, load, build_shape):
    rows = [_pair_rows(name, timings) for name, timings in build.items()]
    parts = [
        "## Build and load time",
        "",
        f"Building with `weights=None` and `input_shape={tuple(build_shape)}`; "
        "`keras.utils.clear_session()` runs untimed before each build. Times are median "
        "(fastest-slowest); *time ratio* is the median over rounds of keras_resnets' time / "
        "keras.applications' time in the same round.",
        "",
        _table(["architecture", "keras.applications", "keras_resnets", "time ratio"], rows),
    ]
    for model_name, kinds in load.items():
        parts += [
            "",
            f"Loading a {model_name} HDF5 file in the official keras.applications layout "
            "(written with h5py from a random model: root attributes `layer_names`, `backend`, "
            "`keras_version`; one group per layer with `weight_names` ending in `:0`).",
            "",
        ]
        rows = []
        for kind, timings in kinds.items():
            names = list(timings)
            reference, ours = timings[names[0]], timings[names[1]]
            rows.append(
                [
                    kind,
                    f"`{names[0]}`: {_format_seconds(reference.median)} "
                    f"({_format_seconds(reference.fastest)}-{_format_seconds(reference.slowest)})",
                    f"`{names[1]}`: {_format_seconds(ours.median)} "
                    f"({_format_seconds(ours.fastest)}-{_format_seconds(ours.slowest)})",
                    f"{paired_ratio(ours, reference):.3f}",
                ]
            )
        parts.append(_table(["what", "keras.applications", "keras_resnets", "time ratio"], rows))
    return "\n".join(parts)


def _threads_section(threads, image_size, batch_size, rounds):
    baseline = sorted(next(iter(threads.values())))
    baseline_median = baseline[len(baseline) // 2]
    rows = []
    for label, seconds in threads.items():
        ordered = sorted(seconds)
        median = ordered[len(ordered) // 2]
        rows.append(
            [
                label,
                _format_rate(batch_size / median),
                f"{_format_rate(batch_size / ordered[-1])}-{_format_rate(batch_size / ordered[0])}",
                f"{baseline_median / median:.2f}x",
            ]
        )
    return "\n".join(
        [
            "## Thread pools",
            "",
            f"The float32 fast path on ResNet50 at {image_size}x{image_size}, batch {batch_size}, "
            "one fresh process per setting and round (TensorFlow fixes its pools when its runtime "
            f"starts), {rounds} round(s) of the settings in turn. *Speed* is relative to "
            "TensorFlow's default.",
            "",
            _table(["setting", "images/s", "min-max", "speed"], rows),
        ]
    )


def _is_convolution(op_type):
    return "Conv2D" in op_type


def profile_summary(profile):
    """Return (total ms, convolution ms) of one profiled call."""
    total = sum(milliseconds for _, milliseconds in profile)
    convolution = sum(milliseconds for op_type, milliseconds in profile if _is_convolution(op_type))
    return total, convolution


def _profile_section(profiles, image_size):
    if profiles is None:
        return "## Profile\n\nNot available: this TensorFlow build has no XPlane reader."
    parts = [
        "## Profile",
        "",
        f"Op time by op type for one call of ResNet50 at {image_size}x{image_size}, from "
        "TensorFlow's profiler; ops that ran on parallel threads are each counted. "
        "`_MklNative*` ops are TensorFlow's oneDNN kernels; the `Fused` convolutions also "
        "apply the bias and, where the graph allows, the residual addition and ReLU.",
    ]
    for batch_size, by_contender in profiles.items():
        for name, profile in by_contender.items():
            total, _ = profile_summary(profile)
            rows = [
                [op_type, f"{milliseconds:.1f}", f"{100 * milliseconds / total:.1f}%"]
                for op_type, milliseconds in profile[:8]
            ]
            parts += [
                "",
                f"**{name}, batch {batch_size}** (total {total:.0f} ms)",
                "",
                _table(["op type", "ms", "share"], rows),
            ]
    return "\n".join(parts)


def target_checks(inference, training, build, load):
    """Return one row per target: (target, measured, measured by fastest repetition, verdict).

    Verdicts use the median over rounds of per-round ratios. The
    fastest-repetition ratio is shown beside them as a second view of the
    same runs.
    """
    by_key = _inference_by_key(inference)
    checks = []

    def speed_check(label, batch_size, contender, target):
        result = by_key.get((TARGET_MODEL, batch_size))
        if result is None:
            checks.append((label, "not measured in this run", "-", "-"))
            return
        reference, timing = result.timings[suites.REFERENCE], result.timings[contender]
        speed = _ratio(reference, timing)
        verdict = "met" if speed >= target else f"missed by {100 * (1 - speed / target):.0f}%"
        checks.append((label, f"{speed:.2f}x", f"{reference.fastest / timing.fastest:.2f}x", verdict))

    speed_check(f"float32 fast path >= {FLOAT32_TARGET}x at batch 32", 32, suites.FAST_FLOAT32, FLOAT32_TARGET)
    speed_check(f"float32 fast path >= {FLOAT32_TARGET}x at batch 1", 1, suites.FAST_FLOAT32, FLOAT32_TARGET)
    speed_check(f"bfloat16 fast path >= {BFLOAT16_TARGET}x at batch 32", 32, suites.FAST_BFLOAT16, BFLOAT16_TARGET)

    def parity_check(label, pairs):
        """Check (keras.applications timing, keras_resnets timing) pairs keyed by what they measure."""
        if not pairs:
            checks.append((label, "not measured in this run", "-", "-"))
            return
        ratios = {name: paired_ratio(ours, reference) for name, (reference, ours) in pairs.items()}
        fastest_ratios = {name: ours.fastest / reference.fastest for name, (reference, ours) in pairs.items()}
        worst_name, worst = max(ratios.items(), key=lambda item: item[1])
        fastest_name, fastest_worst = max(fastest_ratios.items(), key=lambda item: item[1])
        verdict = "met" if worst <= PARITY_LIMIT else f"missed by {100 * (worst - PARITY_LIMIT):.1f} points"
        checks.append(
            (
                label,
                f"worst time ratio {worst:.3f} ({worst_name})",
                f"worst time ratio {fastest_worst:.3f} ({fastest_name})",
                verdict,
            )
        )

    parity_check(
        "keras_resnets predict within 3% of keras.applications predict",
        {
            f"batch {result.batch_size}": (
                result.timings[suites.APPLICATIONS_PREDICT],
                result.timings[suites.OURS_PREDICT],
            )
            for result in inference
            if result.model_name == TARGET_MODEL
        },
    )
    parity_check(
        "training step within 3% of keras.applications",
        {
            name: (timings["keras.applications"], timings["keras_resnets"])
            for name, timings in training.items()
            if name == TARGET_MODEL
        },
    )
    parity_check(
        "build no slower than keras.applications (3% noise allowance)",
        {name: (timings["keras.applications"], timings["keras_resnets"]) for name, timings in build.items()},
    )
    load_pairs = {}
    for model_name, kinds in load.items():
        for kind, timings in kinds.items():
            reference, ours = timings.values()
            load_pairs[f"{model_name}, {kind}"] = (reference, ours)
    parity_check("load no slower than keras.applications (3% noise allowance)", load_pairs)
    return checks


def _profile_reading(batch_size, by_contender, result, peaks):
    """Return one bullet explaining the float32 and bfloat16 speeds at one batch size from the profile."""
    reference_total, reference_convolution = profile_summary(by_contender[suites.REFERENCE])
    fast_total, fast_convolution = profile_summary(by_contender[suites.FAST_FLOAT32])
    bfloat16_total, bfloat16_convolution = profile_summary(by_contender[suites.FAST_BFLOAT16])
    reference_other = reference_total - reference_convolution
    fast_other = fast_total - fast_convolution

    text = (
        f"- Profile at batch {batch_size}: the reference's op time is {reference_total:.0f} ms, of which "
        f"{reference_other:.0f} ms ({100 * reference_other / reference_total:.0f}%) outside convolution "
        "kernels (BatchNormalization arithmetic as `Mul`/`AddV2`, separate `Relu`, `AddN`); the float32 "
        f"fast path's is {fast_total:.0f} ms, of which {fast_other:.0f} ms outside convolutions. Its "
        f"convolution kernels took {fast_convolution:.0f} ms against the reference's "
        f"{reference_convolution:.0f} ms. bfloat16 convolutions took {bfloat16_convolution:.0f} ms "
        f"(total {bfloat16_total:.0f} ms)."
    )
    if result is None or fast_convolution <= 0:
        return text

    convolution_rate = result.flops_per_image * batch_size / (fast_convolution / 1000) / 1e9
    peak = peaks["float32"][0]
    reference_wall = result.timings[suites.REFERENCE].median * 1000
    fast_wall = result.timings[suites.FAST_FLOAT32].median * 1000
    text += (
        f" Median wall time per call in the timed runs: reference {reference_wall:.0f} ms, float32 fast "
        f"path {fast_wall:.0f} ms; wall time beyond op time is per-call overhead (input conversion, "
        "dispatch, output copy) and waiting for the CPU."
        f" The float32 convolutions ran at about {convolution_rate:.0f} GFLOP/s, "
        f"{100 * convolution_rate / peak:.0f}% of the measured float32 matmul peak."
    )

    speed = _ratio(result.timings[suites.REFERENCE], result.timings[suites.FAST_FLOAT32])
    if speed < FLOAT32_TARGET:
        # The op time the fast path may take for the target, with its other ops unchanged.
        allowed_convolution = reference_total / FLOAT32_TARGET - fast_other
        needed_rate = result.flops_per_image * batch_size / (allowed_convolution / 1000) / 1e9
        text += (
            f" {FLOAT32_TARGET}x would need the float32 convolutions under {allowed_convolution:.0f} ms, "
            f"about {needed_rate:.0f} GFLOP/s ({100 * needed_rate / peak:.0f}% of that peak)."
        )
        if needed_rate >= NEAR_PEAK * peak:
            text += (
                " That is at or near what a large matmul reaches on this CPU, so removing the "
                "BatchNormalization work cannot reach the target at this batch size; only lower "
                "precision speeds up the convolutions themselves."
            )
    return text


def _worst_ratio(measured):
    """Return the number in a "worst time ratio X (...)" text, or None for speed texts."""
    prefix = "worst time ratio "
    if not measured.startswith(prefix):
        return None
    return float(measured[len(prefix) :].split()[0])


def _reading_section(checks, inference, profiles, peaks, load_info):
    lines = ["## Reading", ""]
    met = [check for check in checks if check[3] == "met"]
    missed = [check for check in checks if check[3].startswith("missed")]
    lines.append(f"- {len(met)} of {len(checks)} targets met in this run; {len(missed)} missed.")
    share = load_info["other_share"]
    if share > 0.1:
        lines.append(
            f"- Other processes used {100 * share:.0f}% of the machine's CPU time during the run, so "
            "absolute rates are low and noisy; the speeds are ratios of contenders timed in turn, "
            "which spreads that load over all of them, but single repetitions still vary (see min-max)."
        )
    by_key = _inference_by_key(inference)
    for batch_size, by_contender in (profiles or {}).items():
        lines.append(_profile_reading(batch_size, by_contender, by_key.get((TARGET_MODEL, batch_size)), peaks))
    for label, measured, fastest, verdict in missed:
        line = f"- Missed: {label}: {measured}, {verdict}."
        fastest_ratio = _worst_ratio(fastest)
        if fastest_ratio is not None and fastest_ratio <= PARITY_LIMIT:
            line += (
                f" By fastest repetition it is {fastest}, within the limit, so this miss is within "
                "the run-to-run noise of this run."
            )
        lines.append(line)
    return "\n".join(lines)


def _quiet_text(plan):
    if not plan.wait_for_quiet:
        return "off in this plan."
    return (
        f"before each timed call, up to {QUIET_MAX_WAIT_SECONDS:.0f} s until other processes "
        f"use at most {100 * QUIET_SHARE:.0f}% of the machine (sampled every 0.25 s from "
        "/proc/stat); the call runs anyway after that wait."
    )


def render_page(context):
    """Return the Markdown page for one benchmark run described by `context` (a dict)."""
    cpu = context["cpu"]
    load_info = context["load"]
    peaks = context["peaks"]
    plan = context["plan"]
    checks = target_checks(context["inference"], context["training"], context["build"], context["load_times"])

    parts = [
        "# Benchmarks",
        "",
        "This page is written by `benchmarks/run.py`; every number below comes from the run "
        "described here. Models have random weights and random BatchNormalization statistics "
        "(no download). Contenders are timed in turn, several repetitions after warm-up.",
        "",
        f"- Command: `{context['command']}` (plan `{plan.name}`)",
        f"- Run: {context['started']} to {context['finished']} (UTC)",
        f"- CPU: {cpu['model']}, {cpu['usable_cores']} usable cores ({cpu['logical_cores']} logical), "
        f"{context['memory_gib']:.0f} GiB memory",
        f"- CPU flags (vector extensions): {' '.join(cpu['flags'])}",
        "- Versions: " + ", ".join(f"{name} {version}" for name, version in context["versions"].items()),
        f"- TensorFlow thread pools during the run: intra-op {context['threads'][0]}, "
        f"inter-op {context['threads'][1]} (the `Predictor` default, set before any model was built)",
        f"- Matmul peak (best of {plan.matmul_repetitions}, {plan.matmul_size}x{plan.matmul_size}): "
        f"float32 {peaks['float32'][0]:.0f} GFLOP/s, bfloat16 {peaks['bfloat16'][0]:.0f} GFLOP/s",
        "",
        "## Load from other processes",
        "",
        f"Load average before: {' '.join(load_info['load_before'] or ['?'])}; after: "
        f"{' '.join(load_info['load_after'] or ['?'])}. Over the {load_info['wall_seconds']:.0f} s run, "
        f"other processes used {load_info['other_cpu_seconds']:.0f} CPU seconds, "
        f"{100 * load_info['other_share']:.0f}% of the machine's capacity (from /proc/stat, minus "
        "this run's own CPU time).",
        "",
        "## Targets (ResNet50; speeds against the `keras.applications` model in a `tf.function`)",
        "",
        _table(["target", "measured (median of per-round ratios)", "by fastest repetition", "verdict"], checks),
        "",
        _reading_section(checks, context["inference"], context["profiles"], peaks, load_info),
        "",
        _inference_section(context["inference"], peaks),
        "",
        _training_section(context["training"], plan.training_batch),
        "",
        _build_section(context["build"], context["load_times"], plan.build_input_shape),
        "",
        _threads_section(context["thread_probe"], plan.image_size, plan.threads_batch, plan.threads_rounds),
        "",
        _profile_section(context["profiles"], plan.image_size),
        "",
        "## How FLOPs are counted",
        "",
        "`keras_resnets.inference.count_flops(model)` walks the model's layer calls and counts "
        "the multiply-adds (MACs) of convolution and dense layers from their input and output "
        "shapes: output elements x kernel window x input channels per group (Dense: output "
        "units x input units). One MAC is 2 FLOPs. Bias additions, normalization, activations, "
        "pooling and residual additions are not counted. ResNet50 at 224x224 comes to "
        f"{context['resnet50_flops'] / 2e9:.2f} GMACs ({context['resnet50_flops'] / 1e9:.2f} GFLOP); "
        "He et al., \"Deep Residual Learning for Image Recognition\" (2016), Table 1, list 3.8e9 "
        "multiply-adds.",
        "",
        "## Method",
        "",
        "- *keras.applications tf.function* (the reference): `tf.function(lambda x: "
        "model(x, training=False))` on the keras.applications model, called with the NumPy batch.",
        "- *predict*: `model.predict(x, batch_size=batch)`, which adds Keras' per-call setup "
        "(data adapter, callbacks) to the same compiled step.",
        "- *fast path*: `keras_resnets.inference.Predictor(model, precision, batch_size=batch)"
        ".predict(x)`: the model from `optimize_for_inference` in a `tf.function` with a fixed "
        "input signature.",
        f"- Waiting for a quiet machine: {_quiet_text(plan)}",
        f"- Repetitions per contender: {plan.repetitions} after {plan.warmup} warm-up rounds "
        f"(inference); {plan.training_repetitions} after {plan.training_warmup} (training); "
        f"{plan.build_repetitions} after {plan.build_warmup} (build, load).",
        "",
    ]
    return "\n".join(parts)
