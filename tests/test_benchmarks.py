"""Tests of the benchmark script: its timing helper, its target verdicts and one smoke run."""

import os
import re
import subprocess
import sys

import pytest

from benchmarks import report, suites
from benchmarks.timing import Timing, paired_ratio, time_alternating

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_alternating_rotates_start_and_skips_warmup():
    calls = []
    contenders = {name: (lambda name=name: calls.append(name)) for name in ("a", "b", "c")}

    timings = time_alternating(contenders, repetitions=2, warmup=1)

    assert calls == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert sorted(timings) == ["a", "b", "c"]
    assert all(len(timing.seconds) == 2 for timing in timings.values())


def test_alternating_runs_setup_before_each_call():
    events = []

    time_alternating(
        {"only": lambda: events.append("call")},
        repetitions=2,
        warmup=0,
        setup=lambda: events.append("setup"),
    )

    assert events == ["setup", "call", "setup", "call"]


def test_alternating_records_other_load():
    timings = time_alternating({"only": lambda: sum(range(10000))}, repetitions=3, warmup=0)

    others = timings["only"].others
    assert len(others) == 3
    assert all(0.0 <= share for share in others)


def test_paired_ratio_uses_rounds():
    numerator = Timing([2.0, 10.0, 6.0])
    denominator = Timing([1.0, 10.0, 2.0])

    # Per-round ratios 2, 1, 3; the ratio of medians would be 6 / 2 = 3.
    assert paired_ratio(numerator, denominator) == 2.0


def test_timing_statistics():
    timing = Timing([3.0, 1.0, 2.0])

    assert timing.median == 2.0
    assert timing.fastest == 1.0
    assert timing.slowest == 3.0


def inference_result(batch_size, reference_seconds, float32_seconds, bfloat16_seconds, predict_seconds):
    timings = {
        suites.APPLICATIONS_PREDICT: Timing([predict_seconds[0]]),
        suites.REFERENCE: Timing([reference_seconds]),
        suites.OURS_PREDICT: Timing([predict_seconds[1]]),
        suites.FAST_FLOAT32: Timing([float32_seconds]),
        suites.FAST_BFLOAT16: Timing([bfloat16_seconds]),
    }
    return suites.InferenceResult("ResNet50", batch_size, 1, timings, {}, {})


def pair(reference_seconds, ours_seconds):
    return {"keras.applications": Timing([reference_seconds]), "keras_resnets": Timing([ours_seconds])}


def test_target_checks_verdicts():
    inference = [
        # Batch 1: float32 1.25x (met). Batch 32: float32 1.1x (missed), bfloat16 2x (met).
        inference_result(1, 1.0, 0.8, 0.5, (1.0, 1.02)),
        inference_result(32, 1.1, 1.0, 0.55, (1.2, 1.3)),
    ]
    training = {"ResNet50": pair(2.0, 2.02)}
    build = {"ResNet50": pair(1.0, 0.9), "ResNet152": pair(1.0, 1.1)}
    load = {
        "ResNet50": {
            "into a built model": {"applications": Timing([1.0]), "ours": Timing([0.5])},
        }
    }

    checks = {
        label: (measured, verdict) for label, measured, _, verdict in report.target_checks(inference, training, build, load)
    }

    assert checks["float32 fast path >= 1.2x at batch 32"] == ("1.10x", "missed by 8%")
    assert checks["float32 fast path >= 1.2x at batch 1"] == ("1.25x", "met")
    assert checks["bfloat16 fast path >= 1.5x at batch 32"] == ("2.00x", "met")
    predict_measured, predict_verdict = checks["keras_resnets predict within 3% of keras.applications predict"]
    assert predict_measured == "worst time ratio 1.083 (batch 32)"
    assert predict_verdict == "missed by 5.3 points"
    assert checks["training step within 3% of keras.applications"][1] == "met"
    build_measured, build_verdict = checks["build no slower than keras.applications (3% noise allowance)"]
    assert build_measured == "worst time ratio 1.100 (ResNet152)"
    assert build_verdict.startswith("missed")
    assert checks["load no slower than keras.applications (3% noise allowance)"][1] == "met"


def test_target_checks_fastest_repetition():
    reference = Timing([1.0, 2.0, 3.0])
    fast = Timing([0.5, 1.9, 2.9])
    result = suites.InferenceResult(
        "ResNet50",
        1,
        1,
        {
            suites.APPLICATIONS_PREDICT: Timing([1.0]),
            suites.REFERENCE: reference,
            suites.OURS_PREDICT: Timing([1.0]),
            suites.FAST_FLOAT32: fast,
            suites.FAST_BFLOAT16: fast,
        },
        {},
        {},
    )

    checks = {row[0]: row for row in report.target_checks([result], {}, {"ResNet50": pair(1.0, 1.0)}, {})}

    # Median 2.0 / 1.9; fastest 1.0 / 0.5.
    assert checks["float32 fast path >= 1.2x at batch 1"][1:] == ("1.05x", "2.00x", "missed by 12%")


def test_target_checks_unmeasured_batch():
    inference = [inference_result(1, 1.0, 0.8, 0.5, (1.0, 1.0))]

    checks = {label: measured for label, measured, _, _ in report.target_checks(inference, {}, {}, {})}

    assert checks["float32 fast path >= 1.2x at batch 32"] == "not measured in this run"
    assert checks["training step within 3% of keras.applications"] == "not measured in this run"


@pytest.mark.slow
def test_smoke_run_writes_page(tmp_path):
    output = tmp_path / "benchmarks.md"
    completed = subprocess.run(
        [sys.executable, os.path.join(REPOSITORY_ROOT, "benchmarks", "run.py"), "--quick", "--smoke", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert f"Wrote {output}" in completed.stdout
    page = output.read_text(encoding="utf-8")
    assert "Command: `python benchmarks/run.py --quick --smoke` (plan `smoke`)" in page
    for heading in (
        "## Load from other processes",
        "## Targets",
        "## Reading",
        "### ResNet50",
        "## Training step",
        "## Build and load time",
        "## Thread pools",
        "## Profile",
        "## How FLOPs are counted",
    ):
        assert heading in page
    for contender in (
        suites.APPLICATIONS_PREDICT,
        suites.REFERENCE,
        suites.OURS_PREDICT,
        suites.FAST_FLOAT32,
        suites.FAST_BFLOAT16,
        suites.ONNX_RUNTIME,
    ):
        assert f"| 1 | {contender} |" in page
        assert f"| 2 | {contender} |" in page
    assert re.search(r"float32 \d+ GFLOP/s, bfloat16 \d+ GFLOP/s", page)
    assert re.search(r"Load average before: [\d.]+ [\d.]+ [\d.]+; after: [\d.]+", page)
    assert "| ResNet50V2 |" in page
    assert re.search(r"ResNet50 at 224x224 comes to 3\.8\d GMACs", page)
