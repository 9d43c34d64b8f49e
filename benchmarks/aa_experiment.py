"""A/A and 10 % slowdown experiments: how often does each verdict come out?

Runs a CPU-bound loop against itself (A/A) and against the same loop with 10 % more
iterations, many times, and counts the verdicts of ``run_benchmark``:

* interleaved A/B (the gating mode): false ``regression`` on A/A should stay <= 1 %,
  the 10 % slowdown should be flagged >= 95 % of the time;
* against a stored baseline (a JSON file written by the previous repetition, and the very
  first one): A/A should say ``regression`` <= 1 % of the time (``inconclusive`` is fine).

Next to each row: what pytest-benchmark's ``--benchmark-compare-fail=mean:5%`` rule
(candidate mean > baseline mean * 1.05 fails) concludes on the very same samples.

    python benchmarks/aa_experiment.py --repetitions 100
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import tempfile
import time
from pathlib import Path

from codomyrmex.performance import BenchmarkResult, run_benchmark
from codomyrmex.performance.profiling import compare

LOOP = 20_000


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i & 7
    return total


def reference() -> None:
    _spin(LOOP)


def ten_percent_slower() -> None:
    _spin(LOOP + LOOP // 10)


VERDICTS = ("regression", "improvement", "no_change", "inconclusive")


class Tally:
    def __init__(self, label: str) -> None:
        self.label = label
        self.verdicts: collections.Counter[str] = collections.Counter()
        self.mean_rule_fails = 0
        self.ratios: list[float] = []

    def add(self, verdict: str, ratio: float, base_mean: float, cand_mean: float) -> None:
        self.verdicts[verdict] += 1
        self.ratios.append(ratio)
        self.mean_rule_fails += cand_mean > base_mean * 1.05

    def row(self) -> str:
        n = sum(self.verdicts.values())
        cells = " ".join(f"{self.verdicts[v]:>5} {self.verdicts[v] / n:>6.1%}" for v in VERDICTS)
        spread = f"{min(self.ratios):.2f}-{max(self.ratios):.2f}"
        fails = f"{self.mean_rule_fails:>5} {self.mean_rule_fails / n:>6.1%}"
        return f"{self.label:<28} {n:>4}  {cells}  | {fails}  ratios {spread}"


def _stored_offline(base: BenchmarkResult, cand: BenchmarkResult) -> str:
    criteria = compare.Criteria()
    (decided,) = compare.decide([compare.stored(base, cand, criteria)], criteria)
    assert decided is not None
    return decided.verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=40, help="interleaved pairs per run")
    parser.add_argument("--rounds", type=int, default=10, help="rounds per stored run")
    parser.add_argument("--min-time", type=float, default=0.01)
    args = parser.parse_args(argv)
    options = {"min_time": args.min_time, "warmup": 1}
    started = time.perf_counter()

    aa, slow = Tally("interleaved A/A"), Tally("interleaved +10% (CPU)")
    stored_prev, stored_first = Tally("stored A/A vs previous run"), Tally("stored A/A vs first")
    stored_slow = Tally("stored +10% vs first A")
    with tempfile.TemporaryDirectory() as directory:
        first_path = Path(directory) / "first.json"
        first = run_benchmark(reference, save_baseline=first_path, rounds=args.rounds, **options)
        previous = first_path
        for repetition in range(args.repetitions):
            result = run_benchmark(reference, baseline=reference, rounds=args.pairs, **options)
            c = result.comparison
            aa.add(c.verdict, c.ratio, statistics.fmean(c.baseline_samples), result.mean)

            result = run_benchmark(
                ten_percent_slower, baseline=reference, rounds=args.pairs, **options
            )
            c = result.comparison
            slow.add(c.verdict, c.ratio, statistics.fmean(c.baseline_samples), result.mean)
            stored_slow.add(
                _stored_offline(first, result),
                result.median / first.median,
                first.mean,
                result.mean,
            )

            path = Path(directory) / f"run{repetition}.json"
            result = run_benchmark(
                reference, baseline=previous, save_baseline=path, rounds=args.rounds, **options
            )
            c = result.comparison
            stored_prev.add(c.verdict, c.ratio, statistics.fmean(c.baseline_samples), result.mean)
            ratio = result.median / first.median
            stored_first.add(_stored_offline(first, result), ratio, first.mean, result.mean)
            previous = path
            print(f"\r{repetition + 1}/{args.repetitions}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    header = " ".join(f"{v:>12}" for v in VERDICTS)
    print(f"{'experiment':<28} {'n':>4}  {header}  | {'mean:5% fails':>12}")
    for tally in (aa, slow, stored_prev, stored_first, stored_slow):
        print(tally.row())
    print(f"\n{time.perf_counter() - started:.0f} s; {args.pairs} pairs per interleaved run, "
          f"{args.rounds} rounds per stored run, min_time {args.min_time} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
