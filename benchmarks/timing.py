"""Side-by-side timing: contenders run in turn, several repetitions after warm-up."""

import dataclasses
import statistics
import time


@dataclasses.dataclass
class Timing:
    """Wall-clock seconds of each timed call of one contender."""

    seconds: list

    @property
    def median(self):
        return statistics.median(self.seconds)

    @property
    def fastest(self):
        return min(self.seconds)

    @property
    def slowest(self):
        return max(self.seconds)


def time_alternating(contenders, *, repetitions, warmup, setup=None):
    """Time each contender's call in turn and return a Timing per contender name.

    Every round calls each contender once, starting one later in the order
    each round, so that a slow phase of the machine (another process, a
    frequency change) spreads over all contenders instead of hitting one.
    The `warmup` rounds (tracing, oneDNN kernel selection, memory pools) are
    not recorded.

    Args:
        contenders: dict of name -> callable taking no arguments. A callable
            must return only after its work is done (for example after
            converting a tensor to NumPy).
        repetitions: recorded rounds.
        warmup: unrecorded rounds before them.
        setup: optional callable run, untimed, before every call.
    """
    names = list(contenders)
    timings = {name: Timing([]) for name in names}
    for round_index in range(warmup + repetitions):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            if setup is not None:
                setup()
            start = time.perf_counter()
            contenders[name]()
            elapsed = time.perf_counter() - start
            if round_index >= warmup:
                timings[name].seconds.append(elapsed)
    return timings
