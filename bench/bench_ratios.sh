#!/usr/bin/env bash
# Prints the ratios of a core_bench run: for each benchmark family and argument, every "ritma*"
# variant against every other variant (the peer measured in the same process), using the median
# when the run had repetitions. Rates are items/s where the benchmark counts items, else bytes/s.
#
#   bench/bench_ratios.sh build/core_bench.json
#
# The JSON is what `core_bench --benchmark_out=FILE --benchmark_out_format=json` writes.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1" ]; then
  echo "usage: bench/bench_ratios.sh CORE_BENCH_JSON" >&2
  exit 2
fi

python3 - "$1" <<'PY'
import json
import sys

with open(sys.argv[1]) as f:
    report = json.load(f)

runs = report["benchmarks"]
medians = [r for r in runs if r.get("aggregate_name") == "median"]
if medians:
    chosen, note = medians, "median of %d repetitions" % runs[0].get("repetitions", 0)
else:
    chosen, note = [r for r in runs if r.get("run_type", "iteration") == "iteration"], "single run"


def rate(r):
    if "items_per_second" in r:
        return r["items_per_second"], "items/s"
    if "bytes_per_second" in r:
        return r["bytes_per_second"], "B/s"
    return None, None


def show(value, unit):
    if unit == "B/s":
        for div, name in ((1 << 30, "GiB/s"), (1 << 20, "MiB/s"), (1 << 10, "KiB/s")):
            if value >= div:
                return "%.3g %s" % (value / div, name)
        return "%.3g B/s" % value
    for div, name in ((1e6, "M/s"), (1e3, "k/s")):
        if value >= div:
            return "%.3g %s" % (value / div, name)
    return "%.3g /s" % value


# Registration order (family_index), not the order a randomly interleaved run finished in.
chosen.sort(key=lambda r: (r.get("family_index", 0), r.get("per_family_instance_index", 0)))
groups = {}  # "family[/arg]" -> {variant: run}
for r in chosen:
    if r.get("error_occurred"):
        print("ERROR %s: %s" % (r["run_name"], r.get("error_message", "")))
        continue
    parts = r["run_name"].split("/")
    family, variant, arg = parts[0], parts[1], "/".join(parts[2:])
    key = family + ("/" + arg if arg else "")
    groups.setdefault(key, {})[variant] = r

print("core_bench ratios (%s; ours/peer > 1 means ours is faster)" % note)
print("%-28s %-30s %14s   %-32s %14s %8s" % ("benchmark", "ours", "rate", "peer", "rate", "ratio"))
for key, variants in groups.items():
    ours = [v for v in variants if v.startswith("ritma")]
    peers = [v for v in variants if not v.startswith("ritma")]
    for o in ours:
        o_rate, unit = rate(variants[o])
        if o_rate is None:
            continue
        if not peers:
            print("%-28s %-30s %14s" % (key, o, show(o_rate, unit)))
        for p in peers:
            p_rate, _ = rate(variants[p])
            print("%-28s %-30s %14s   %-32s %14s %8.3f" % (
                key, o, show(o_rate, unit), p, show(p_rate, unit), o_rate / p_rate))
PY
