"""The machine a benchmark runs on: CPU, versions, load from other processes, matmul peak."""

import dataclasses
import os
import platform
import time

# CPU flags that decide which oneDNN kernels TensorFlow can use.
_RELEVANT_FLAG_PREFIXES = ("avx", "amx", "fma", "f16c", "sse4")


def cpu_description():
    """Return a dict with the CPU model, usable cores and the vector-extension flags."""
    model = platform.processor() or "unknown"
    flags = []
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name":
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = value.split()
    except OSError:
        pass
    relevant = sorted(flag for flag in flags if flag.startswith(_RELEVANT_FLAG_PREFIXES))
    return {
        "model": model,
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "flags": relevant,
        "has_avx512_bf16": "avx512_bf16" in flags,
    }


def memory_gib():
    try:
        with open("/proc/meminfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def versions():
    """Return the versions of Python and of the libraries that are measured."""
    import h5py
    import keras
    import numpy
    import tensorflow as tf

    import keras_resnets

    found = {
        "Python": platform.python_version(),
        "TensorFlow": tf.__version__,
        "Keras": keras.__version__,
        "NumPy": numpy.__version__,
        "h5py": h5py.__version__,
        "keras_resnets": keras_resnets.__version__,
    }
    onnx_modules = onnx_runtime_modules()
    if onnx_modules is not None:
        tf2onnx, onnxruntime = onnx_modules
        found["tf2onnx"] = tf2onnx.__version__
        found["onnxruntime"] = onnxruntime.__version__
    return found


def onnx_runtime_modules():
    """Return (tf2onnx, onnxruntime) if both import, else None."""
    try:
        import onnxruntime
        import tf2onnx
    except ImportError:
        return None
    return tf2onnx, onnxruntime


def load_average():
    try:
        with open("/proc/loadavg", encoding="utf-8") as file:
            return file.read().split()[:3]
    except OSError:
        return None


def busy_cpu_seconds():
    """Return the CPU seconds all processes spent busy since boot, from /proc/stat."""
    with open("/proc/stat", encoding="utf-8") as file:
        fields = file.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    """Return the CPU seconds of this process and its finished children."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def usable_cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


class OtherLoad:
    """Measure the share of the machine that other processes used between two points in time."""

    def __init__(self):
        self.restart()

    def restart(self):
        self._wall = time.monotonic()
        self._machine = busy_cpu_seconds()
        self._own = own_cpu_seconds()

    def share(self):
        """Return others' CPU time since `restart`, as a fraction of all cores' capacity."""
        wall = time.monotonic() - self._wall
        others = (busy_cpu_seconds() - self._machine) - (own_cpu_seconds() - self._own)
        return max(others, 0.0) / (wall * usable_cores()) if wall > 0 else 0.0


def wait_for_quiet(max_share, max_wait_seconds, window_seconds=0.25):
    """Wait until other processes use at most `max_share` of the machine, or give up.

    Samples the machine every `window_seconds` and returns the last share
    seen, after at most about `max_wait_seconds`.
    """
    deadline = time.monotonic() + max_wait_seconds
    load = OtherLoad()
    while True:
        load.restart()
        time.sleep(window_seconds)
        share = load.share()
        if share <= max_share or time.monotonic() >= deadline:
            return share


@dataclasses.dataclass
class LoadMonitor:
    """CPU time of the whole machine and of this process (children included) over a run."""

    started: float = dataclasses.field(default_factory=time.monotonic)
    machine_start: float = dataclasses.field(default_factory=busy_cpu_seconds)
    own_start: float = dataclasses.field(default_factory=own_cpu_seconds)
    load_before: list = dataclasses.field(default_factory=load_average)

    def finish(self):
        """Return a dict describing how busy other processes kept the machine during the run."""
        wall = time.monotonic() - self.started
        machine = busy_cpu_seconds() - self.machine_start
        own = own_cpu_seconds() - self.own_start
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        others = max(machine - own, 0.0)
        return {
            "wall_seconds": wall,
            "own_cpu_seconds": own,
            "other_cpu_seconds": others,
            "other_share": others / (wall * cores) if wall > 0 else 0.0,
            "load_before": self.load_before,
            "load_after": load_average(),
        }


def matmul_peak(size, repetitions, dtype):
    """Measure the GFLOP/s of a square `tf.matmul` of `size`, as (best, median).

    One n x n by n x n product is 2 * n**3 floating-point operations.
    """
    import tensorflow as tf

    left = tf.random.uniform((size, size), dtype=tf.float32)
    right = tf.random.uniform((size, size), dtype=tf.float32)
    if dtype != "float32":
        left = tf.cast(left, dtype)
        right = tf.cast(right, dtype)
    operations = 2 * size**3
    tf.matmul(left, right).numpy()
    rates = []
    for _ in range(repetitions):
        start = time.perf_counter()
        tf.matmul(left, right).numpy()
        rates.append(operations / (time.perf_counter() - start) / 1e9)
    rates.sort()
    return rates[-1], rates[len(rates) // 2]
