#!/usr/bin/env python3
"""Every chart of rso-engine, drawn with matplotlib (Debian: apt-get install python3-matplotlib).

usage:
  tools/plot.py accuracy OUT.svg [RUN.jsonl ...] [--run LABEL RUN.jsonl ...] [--title T] [--log-x]
      test accuracy against updates of all weights (RSO cycles, SGD iterations) from metrics
      files (`rso train/sgd --metrics`, `rso reproduce`); one line per run, labelled with its
      file name or LABEL. Points that are not finite numbers are left out and counted. --log-x
      draws x logarithmic above 1 (linear from 0 to 1), for RSO cycles next to SGD iterations.
  tools/plot.py bars OUT.svg --bar LABEL ACCURACY [--bar ...] [--title T]
      one bar per run: final test accuracy (0-1).
  tools/plot.py roofline OUT.svg roofline.json
      the log-log roofline of `rso bench roofline` (compute roof, bandwidth slope, one dot per
      kernel; the 1-core roofs dashed).
Exit status: 0 drawn, 1 bad input (the message names the file), 3 matplotlib missing.
"""
import argparse
import json
import math
import os
import sys


def need_matplotlib():
    try:
        import matplotlib
    except ImportError:
        print(f"matplotlib is not installed for {sys.executable}: "
              "install it with `apt-get install python3-matplotlib` (tools/setup does)", file=sys.stderr)
        sys.exit(3)
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, escaped by the SVG writer
    matplotlib.rcParams["svg.hashsalt"] = "rso"  # the same input gives the same file
    import matplotlib.pyplot as plt
    return plt


def finite(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def load_accuracy(path):
    """The (updates, accuracy) points of one metrics file, sorted, and how many were not finite.

    x is `updates` when the record has it (rso reproduce, rso sgd), else `cycle` (rso train)."""
    points = {}
    try:
        f = open(path)
    except OSError as e:
        sys.exit(f"{path}: cannot read ({e.strerror})")
    with f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{n}: not JSON ({e})")
            if rec.get("kind") == "eval":
                x = rec.get("updates", rec.get("cycle"))
                points[x if finite(x) else repr(x)] = rec.get("test_accuracy")  # a resumed run may repeat one: keep the last
    good = sorted((x, a) for x, a in points.items() if finite(x) and finite(a))
    return good, len(points) - len(good)


def save(fig, out):
    fig.tight_layout()
    fig.savefig(out, format="svg", metadata={"Date": None})


def accuracy(args):
    runs = [(os.path.basename(p), p) for p in args.runs] + [(label, p) for label, p in (args.run or [])]
    if not runs:
        sys.exit("accuracy: give at least one metrics file")
    series = []
    for name, p in runs:
        pts, skipped = load_accuracy(p)
        if skipped:
            print(f"{p}: left out {skipped} eval point(s) that are not finite numbers", file=sys.stderr)
            name += f" ({skipped} non-finite left out)"
        if pts:
            series.append((name, pts))
    if not series:
        sys.exit("no finite eval records found in " + ", ".join(p for _, p in runs))
    plt = need_matplotlib()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for name, pts in series:
        ax.plot([x for x, _ in pts], [100 * a for _, a in pts], marker="o", markersize=3, label=name)
    ax.set_xlabel("updates of all weights (RSO cycles, SGD iterations)")
    if args.log_x:
        ax.set_xscale("symlog", linthresh=1)  # symlog keeps the update-0 point of every run
    ax.set_ylabel("test accuracy (%)")
    ax.grid(True, color="#ddd")
    if args.title:
        ax.set_title(args.title)
    ax.legend(fontsize=8)
    save(fig, args.out)
    print(f"wrote {args.out}: {sum(len(p) for _, p in series)} points from {len(series)} run(s)")


def bars(args):
    if not args.bar:
        sys.exit("bars: give at least one --bar LABEL ACCURACY")
    labels, values = [], []
    for label, value in args.bar:
        try:
            v = float(value)
        except ValueError:
            sys.exit(f"bars: accuracy of {label!r} is not a number: {value!r}")
        if not math.isfinite(v):
            sys.exit(f"bars: accuracy of {label!r} is not finite: {value!r}")
        labels.append(label)
        values.append(100 * v)
    plt = need_matplotlib()
    fig, ax = plt.subplots(figsize=(max(4, 1.1 * len(labels) + 2), 4.2))
    rects = ax.bar(range(len(labels)), values, color="#1f77b4")
    ax.bar_label(rects, labels=[f"{v:.2f}%" for v in values], fontsize=8)
    ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 4 else 0, ha="right" if len(labels) > 4 else "center", fontsize=8)
    ax.set_ylabel("final test accuracy (%)")
    ax.set_ylim(0, min(100, max(values) * 1.15 + 1))
    if args.title:
        ax.set_title(args.title)
    save(fig, args.out)
    print(f"wrote {args.out}: {len(labels)} bar(s)")


VARIANT_COLORS = {"ref": "#ff7f0e", "direct_avx2": "#2ca02c"}
NETWORK_MARKERS = ["o", "s", "D", "^"]


def roofline(args):
    try:
        with open(args.report) as f:
            report = json.load(f)
    except OSError as e:
        sys.exit(f"{args.report}: cannot read ({e.strerror})")
    except json.JSONDecodeError as e:
        sys.exit(f"{args.report}: not JSON ({e})")
    ctx, peaks, kernels = report.get("context", {}), report.get("peaks"), report.get("kernels", [])
    plt = need_matplotlib()
    fig, ax = plt.subplots(figsize=(11, 6.5))
    if not peaks:
        ax.text(0.5, 0.5, "no peaks measured", ha="center", transform=ax.transAxes)
        ax.set_axis_off()
        save(fig, args.out)
        print(f"wrote {args.out}: no peaks")
        return
    roof, bw = peaks["compute_roof_gflops"], peaks["bandwidth_roof_gbs"]
    roof1, bw1 = peaks["fma_gflops_1core"]["median"], peaks["stream_triad_gbs_1core"]["median"]
    plotted = [k for k in kernels if k["gflops"] > 0 and k["arithmetic_intensity"] > 0]
    skipped = [k for k in kernels if not (k["gflops"] > 0 and k["arithmetic_intensity"] > 0)]
    ridge = roof / bw
    ais = [k["arithmetic_intensity"] for k in plotted] + [ridge / 10, ridge * 10]
    lo, hi = 10 ** math.floor(math.log10(min(ais))), 10 ** math.ceil(math.log10(max(ais) * 3))
    xs = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    threads = ctx.get("threads", 1)
    ax.plot(xs, [min(roof, x * bw) for x in xs], color="#c00", linewidth=2.5,
            label=f"roof: FMA {roof:.1f} GFLOP/s, stream triad {bw:.1f} GB/s ({threads} thread(s))")
    if threads > 1:
        ax.plot(xs, [min(roof1, x * bw1) for x in xs], color="#999", linestyle="--",
                label=f"1 core: {roof1:.1f} GFLOP/s, {bw1:.1f} GB/s")
    networks = ctx.get("networks", [])
    for k in plotted:
        net = networks.index(k["network"]) if k["network"] in networks else 0
        ax.scatter(k["arithmetic_intensity"], k["gflops"], color=VARIANT_COLORS.get(k["variant"], "#1f77b4"),
                   marker=NETWORK_MARKERS[net % len(NETWORK_MARKERS)], edgecolors="#222", linewidths=0.6, zorder=3)
        ax.annotate(k["name"], (k["arithmetic_intensity"], k["gflops"]), textcoords="offset points",
                    xytext=(5, 3), fontsize=6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("arithmetic intensity (FLOP/byte of compulsory traffic)")
    ax.set_ylabel("GFLOP/s")
    ax.grid(True, which="major", color="#ddd")
    ax.set_title(f"Roofline: {', '.join(networks)} · batch {ctx.get('batch')} · {threads} thread(s) · "
                 f"{ctx.get('build')} build · commit {ctx.get('git_commit') or 'unknown'}", fontsize=10)
    for v, label in [("im2col_blas", "im2col + BLAS / other optimised"), ("direct_avx2", "direct conv (AVX2)"),
                     ("ref", "reference (__ref)")]:
        ax.scatter([], [], color=VARIANT_COLORS.get(v, "#1f77b4"), edgecolors="#222", label=label)
    if len(networks) > 1:
        for i, n in enumerate(networks):
            ax.scatter([], [], color="#bbb", marker=NETWORK_MARKERS[i % len(NETWORK_MARKERS)], edgecolors="#222", label=n)
    ax.legend(fontsize=7, loc="lower right")
    if skipped:
        fig.text(0.01, 0.005, "not plotted (0 FLOP: pure data movement): "
                 + "; ".join(f"{k['name']} {k['gbs']:.3g} GB/s" for k in skipped), fontsize=6, wrap=True)
    save(fig, args.out)
    print(f"wrote {args.out}: {len(plotted)} kernel(s) plotted, {len(skipped)} listed")


def main():
    p = argparse.ArgumentParser(description="rso-engine charts (matplotlib)")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("accuracy", help="test accuracy against updates of all weights")
    a.add_argument("out")
    a.add_argument("runs", nargs="*")
    a.add_argument("--run", nargs=2, action="append", metavar=("LABEL", "FILE"))
    a.add_argument("--title")
    a.add_argument("--log-x", action="store_true")
    a.set_defaults(func=accuracy)
    b = sub.add_parser("bars", help="final accuracies as bars")
    b.add_argument("out")
    b.add_argument("--bar", nargs=2, action="append", metavar=("LABEL", "ACCURACY"))
    b.add_argument("--title")
    b.set_defaults(func=bars)
    r = sub.add_parser("roofline", help="roofline chart from rso bench roofline's JSON")
    r.add_argument("out")
    r.add_argument("report")
    r.set_defaults(func=roofline)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
