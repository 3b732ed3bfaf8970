"""Side-by-side timing: contenders run in turn, several repetitions after warm-up."""

import dataclasses
import statistics
import time

from benchmarks import machine

# Before each timed call, wait up to this long for other processes to use at
# most this share of the machine. The benchmark machine is shared, and one
# call that overlaps another process's burst can take twice as long.
QUIET_SHARE = 0.25
QUIET_MAX_WAIT_SECONDS = 3.0


@dataclasses.dataclass
class Timing:
    """Wall-clock seconds of each timed call of one contender, one call per round.

    `others` holds, per call, the share of the machine's CPU capacity that
    other processes used during that call.
    """

    seconds: list
    others: list = dataclasses.field(default_factory=list)

    @property
    def median(self):
        return statistics.median(self.seconds)

    @property
    def fastest(self):
        return min(self.seconds)

    @property
    def slowest(self):
        return max(self.seconds)

    @property
    def mean_others(self):
        return statistics.mean(self.others) if self.others else 0.0


def paired_ratio(numerator, denominator):
    """Return the median over rounds of numerator time / denominator time in the same round.

    Calls of one round run within seconds of each other, so a per-round
    ratio cancels most of a slow phase of the machine that a ratio of
    medians over the whole run would keep.
    """
    return statistics.median(
        top / bottom for top, bottom in zip(numerator.seconds, denominator.seconds, strict=True)
    )


def time_alternating(contenders, *, repetitions, warmup, setup=None, wait_for_quiet=False):
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
        wait_for_quiet: whether to wait, untimed, before each recorded call
            until other processes are nearly idle (see QUIET_SHARE).
    """
    names = list(contenders)
    timings = {name: Timing([]) for name in names}
    load = machine.OtherLoad()
    for round_index in range(warmup + repetitions):
        shift = round_index % len(names)
        recorded = round_index >= warmup
        for name in names[shift:] + names[:shift]:
            if setup is not None:
                setup()
            if recorded and wait_for_quiet:
                machine.wait_for_quiet(QUIET_SHARE, QUIET_MAX_WAIT_SECONDS)
            load.restart()
            start = time.perf_counter()
            contenders[name]()
            elapsed = time.perf_counter() - start
            if recorded:
                timings[name].seconds.append(elapsed)
                timings[name].others.append(load.share())
    return timings
