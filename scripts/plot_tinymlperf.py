#!/usr/bin/python3
"""Plots the results of `tinycl bench tinymlperf`, which runs this script on the
folder it writes (the timestamped folder under --out); run it again on any such
folder:

    /usr/bin/python3 scripts/plot_tinymlperf.py DIR

Reads DIR/results.json and writes into DIR:

    speedup.png    speedup over the f32 reference of every entry on every device,
                   one panel per event and task (log scale, 95% confidence
                   intervals as error bars, INVALID entries hatched)
    kvcache.png    KV-cache speedup (uncached time / cached time) against the
                   generated length, one line per device
    sparsity.png   speedup (left axis) and accuracy (right axis) against sparsity,
                   one panel per device, structured and unstructured pruning apart
    roofline.png   each device's compute and memory roofs with the kernels as
                   points at (flop/byte, GFLOP/s)

Prints each file written. A plot whose data is missing or empty is skipped with a
message (exit 0); a missing or malformed results.json exits 1, bad usage 2.
Output is deterministic: fixed sizes and resolution, everything drawn in sorted
order, no timestamps in the files.

Needs Debian's python3-matplotlib (scripts/install-deps.sh installs it); draws
with the Agg backend, so no display is needed.
"""
import argparse
import json
import math
import os
import re
import sys

# matplotlib is imported once results.json has been read (a bad file fails fast)
plt = Line2D = Patch = NullFormatter = None

DPI = 100
PNG_META = {"Software": None}  # no version string: the same data gives the same bytes

# display order of the schema's names; others follow, sorted
EVENTS = ["mlp", "cnn", "transformer"]
TASKS = ["digits", "resnet-layer", "prefill"]  # then generate-N by N
ENTRIES = ["f32-ref", "f32-openblas", "f32", "f32-clblast", "int8", "pruned", "pruned-structured",
           "pruned-int8", "kv-cache", "no-cache", "kv-cache-int8"]


def import_matplotlib():
    """False, with a message, where matplotlib is missing."""
    global plt, Line2D, Patch, NullFormatter
    try:
        import matplotlib
    except ImportError as e:
        print(f"plot_tinymlperf.py: cannot draw: {e} (Debian: apt-get install python3-matplotlib)", file=sys.stderr)
        return False

    matplotlib.use("Agg")  # no display
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import NullFormatter
    return True


class Malformed(Exception):
    """results.json does not have the schema's shape; the message says where."""


def natural(name):
    """Sort key: numbers by value ("generate-64" before "generate-256")."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", name)]


def ordered(values, order):
    """values without repeats: those in `order` first, in its order, the rest in natural order."""
    values = set(values)
    return [v for v in order if v in values] + sorted(values - set(order), key=natural)


def device_colors(devices):
    """One colour per device for every figure, from the sorted names."""
    cmap = plt.get_cmap("tab10")
    return {d: cmap(i % 10) for i, d in enumerate(sorted(set(devices)))}


# --- reading and checking --------------------------------------------------------

KIND_NAMES = {"str": "a string", "num": "a number", "bool": "true or false", "obj": "an object",
              "list": "a list", "null": "null"}


def field(obj, key, path, kinds, optional=False):
    """obj[key] checked against kinds (a tuple of "str", "num", "bool", "obj", "list", "null")."""
    if key not in obj:
        if optional:
            return None
        raise Malformed(f"{path}: missing \"{key}\"")
    v = obj[key]
    ok = {
        "str": isinstance(v, str),
        "num": isinstance(v, (int, float)) and not isinstance(v, bool),
        "bool": isinstance(v, bool),
        "obj": isinstance(v, dict),
        "list": isinstance(v, list),
        "null": v is None,
    }
    if not any(ok[k] for k in kinds):
        raise Malformed(f"{path}.{key}: expected {' or '.join(KIND_NAMES[k] for k in kinds)}, "
                        f"got {json.dumps(v)[:60]}")
    return float(v) if ok["num"] and not ok["bool"] else v


def items(container, key, path):
    """container[key] as a list of objects, or [] when absent or null."""
    v = field(container, key, path, ("list", "null"), optional=True)
    if v is None:
        return []
    for i, x in enumerate(v):
        if not isinstance(x, dict):
            raise Malformed(f"{path}.{key}[{i}]: expected an object")
    return v


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise Malformed("not found")
    except OSError as e:
        raise Malformed(e.strerror or str(e))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise Malformed(f"not JSON: {e}")
    if not isinstance(doc, dict):
        raise Malformed("expected a JSON object at the top")
    return doc


def read_records(doc):
    """The tinymlperf records that can be plotted: (event, task, entry, device, speedup, lo, hi, valid)."""
    out = []
    for i, r in enumerate(items(doc, "records", "results")):
        p = f"records[{i}]"
        if field(r, "op", p, ("str",), optional=True) not in (None, "tinymlperf"):
            continue  # another bench's record
        rec = {k: field(r, k, p, ("str",)) for k in ("event", "task", "entry", "device")}
        rec["valid"] = field(r, "valid", p, ("bool",))
        rec["reason"] = field(r, "reason", p, ("str",), optional=True) or ""
        sp = field(r, "speedup_ref", p, ("obj", "null"), optional=True)
        rec["speedup"] = rec["lo"] = rec["hi"] = None
        if sp is not None:
            rec["speedup"] = field(sp, "value", p + ".speedup_ref", ("num", "null"))
            rec["lo"] = field(sp, "ci95_lo", p + ".speedup_ref", ("num", "null"), optional=True)
            rec["hi"] = field(sp, "ci95_hi", p + ".speedup_ref", ("num", "null"), optional=True)
        out.append(rec)
    return out


def read_series(doc):
    series = field(doc, "series", "results", ("obj", "null"), optional=True) or {}
    kv = []
    for i, r in enumerate(items(series, "kvcache", "series")):
        p = f"series.kvcache[{i}]"
        row = {"device": field(r, "device", p, ("str",)), "tokens": field(r, "tokens", p, ("num",))}
        sp = field(r, "speedup", p, ("num", "null"), optional=True)
        if sp is None:  # from the two times when the speedup itself is absent
            c, u = field(r, "cached_ms", p, ("num",)), field(r, "uncached_ms", p, ("num",))
            sp = u / c if c > 0 else None
        row["speedup"] = sp
        kv.append(row)
    sparsity = []
    for i, r in enumerate(items(series, "sparsity", "series")):
        p = f"series.sparsity[{i}]"
        sparsity.append({
            "device": field(r, "device", p, ("str",)),
            "model": field(r, "model", p, ("str",)),
            "sparsity": field(r, "sparsity", p, ("num",)),
            "structured": field(r, "structured", p, ("bool",)),
            "speedup": field(r, "speedup", p, ("num", "null")),
            "accuracy": field(r, "accuracy", p, ("num", "null")),
            "accuracy_dense": field(r, "accuracy_dense", p, ("num", "null"), optional=True),
        })
    roof = field(series, "roofline", "series", ("obj", "null"), optional=True) or {}
    peaks = []
    for i, r in enumerate(items(roof, "peaks", "series.roofline")):
        p = f"series.roofline.peaks[{i}]"
        peaks.append({"device": field(r, "device", p, ("str",)), "gflops": field(r, "gflops", p, ("num",)),
                      "gbps": field(r, "gbps", p, ("num",))})
    kernels = []
    for i, r in enumerate(items(roof, "kernels", "series.roofline")):
        p = f"series.roofline.kernels[{i}]"
        kernels.append({"device": field(r, "device", p, ("str",)), "op": field(r, "op", p, ("str",)),
                        "variant": field(r, "variant", p, ("str",)), "gflops": field(r, "gflops", p, ("num",)),
                        "intensity": field(r, "intensity", p, ("num",))})
    return kv, sparsity, peaks, kernels


def positive(x):
    return x is not None and math.isfinite(x) and x > 0


# --- figures ---------------------------------------------------------------------

def grid(n, width=6.4, height=4.2, max_cols=3):
    cols = min(n, max_cols)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), dpi=DPI, squeeze=False)
    axes = axes.ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def save(fig, out_dir, name, title=None, handles=()):
    """Adds the title and a legend of `handles` below the panels, writes the PNG."""
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
        fig.tight_layout(rect=(0, 0.07 if handles else 0, 1, 0.95))
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=DPI, metadata=PNG_META)
    plt.close(fig)
    print(path)


def plot_speedup(records, colors, out_dir):
    recs = [r for r in records if positive(r["speedup"]) or not r["valid"]]
    if not recs:
        return "no record has a speedup over the f32 reference"
    panels = []
    for ev in ordered((r["event"] for r in recs), EVENTS):
        for task in ordered((r["task"] for r in recs if r["event"] == ev), TASKS):
            panels.append((ev, task))
    devices = sorted({r["device"] for r in recs})
    fig, axes = grid(len(panels), width=7.0)
    for ax, (ev, task) in zip(axes, panels):
        mine = [r for r in recs if r["event"] == ev and r["task"] == task]
        entries = ordered((r["entry"] for r in mine), ENTRIES)
        # each entry's bars side by side, centred on its tick: only the devices that ran it
        slots = {e: [d for d in devices if any(r["device"] == d and r["entry"] == e for r in mine)] for e in entries}
        width = 0.8 / max(len(v) for v in slots.values())
        values = [r["speedup"] for r in mine if positive(r["speedup"])] + [1.0]
        ceiling = 30 * max(values)  # a wider interval (few runs) is cut there, marked with a caret
        top = 1.0
        for k, entry in enumerate(entries):
            for j, dev in enumerate(slots[entry]):
                x = k + width * (j - (len(slots[entry]) - 1) / 2)
                for r in (r for r in mine if r["device"] == dev and r["entry"] == entry):
                    if not positive(r["speedup"]):  # INVALID without a time: a cross on the 1x line
                        ax.plot([x], [1.0], marker="x", color="black", markersize=8)
                        ax.annotate("INVALID", (x, 1.0), xytext=(0, 6), textcoords="offset points",
                                    ha="center", va="bottom", rotation=90, fontsize=7, color="firebrick")
                        continue
                    v = r["speedup"]
                    ax.bar(x, v, width, color=colors[dev], edgecolor="black", linewidth=0.5,
                           hatch="///" if not r["valid"] else None, alpha=0.45 if not r["valid"] else 1.0)
                    label_at = v
                    if positive(r["lo"]) and positive(r["hi"]) and r["lo"] <= v <= r["hi"]:
                        label_at = min(r["hi"], ceiling)
                        ax.errorbar(x, v, yerr=[[v - r["lo"]], [label_at - v]], fmt="none", ecolor="black",
                                    elinewidth=0.8, capsize=0 if label_at < r["hi"] else 2)
                        if label_at < r["hi"]:
                            ax.plot([x], [label_at], marker="^", color="black", markersize=4)
                    text = f"{v:.3g}x" if r["valid"] else f"INVALID\n{v:.3g}x"
                    ax.annotate(text, (x, label_at), xytext=(0, 2), textcoords="offset points", ha="center",
                                va="bottom", fontsize=7, color="black" if r["valid"] else "firebrick")
                    top = max(top, label_at)
        ax.set_yscale("log")
        ax.set_ylim(min(values) / 1.6, top * 2.5)
        ax.axhline(1.0, color="gray", linewidth=0.8, linestyle="--")
        ax.set_xticks(range(len(entries)))
        ax.set_xticklabels(entries, rotation=30, ha="right", fontsize=8)
        ax.set_xlim(-0.6, len(entries) - 0.4)
        ax.set_title(f"{ev} / {task}", fontsize=10)
        ax.set_ylabel("speedup over f32 ref (x)")
        ax.grid(axis="y", which="both", linewidth=0.3, alpha=0.5)
    handles = [Patch(facecolor=colors[d], edgecolor="black", label=d) for d in devices]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="///", label="INVALID"))
    save(fig, out_dir, "speedup.png", "TinyMLPerf: speedup over the f32 reference (error bars: 95% CI)", handles)
    return None


def plot_kvcache(kv, colors, out_dir):
    kv = [r for r in kv if positive(r["speedup"]) and positive(r["tokens"])]
    if not kv:
        return "series.kvcache is missing or empty"
    devices = sorted({r["device"] for r in kv})
    fig, ax = plt.subplots(figsize=(7.0, 4.5), dpi=DPI)
    for dev in devices:
        pts = sorted((r["tokens"], r["speedup"]) for r in kv if r["device"] == dev)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color=colors[dev], label=dev)
    ax.set_xscale("log", base=2)
    ax.axhline(1.0, color="gray", linewidth=0.8, linestyle="--")
    ax.set_xlabel("generated tokens")
    ax.set_ylabel("speedup of the KV cache (uncached / cached time)")
    ax.set_title("TinyMLPerf: KV cache against generated length")
    ax.grid(which="both", linewidth=0.3, alpha=0.5)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, out_dir, "kvcache.png")
    return None


def plot_sparsity(sparsity, out_dir):
    sparsity = [r for r in sparsity if r["speedup"] is not None or r["accuracy"] is not None]
    if not sparsity:
        return "series.sparsity is missing or empty"
    devices = sorted({r["device"] for r in sparsity})
    kinds = sorted({(r["model"], r["structured"]) for r in sparsity})
    cmap = plt.get_cmap("tab10")
    color = {k: cmap(i % 10) for i, k in enumerate(kinds)}
    name = {k: f"{k[0]} {'structured' if k[1] else 'unstructured'}" for k in kinds}
    fig, axes = grid(len(devices), width=6.4, height=4.4, max_cols=2)
    for ax, dev in zip(axes, devices):
        acc_ax = ax.twinx()
        for k in kinds:
            pts = sorted((r["sparsity"] * 100, r["speedup"], r["accuracy"]) for r in sparsity
                         if r["device"] == dev and (r["model"], r["structured"]) == k)
            marker = "s" if k[1] else "o"
            sp = [(x, s) for x, s, _ in pts if s is not None]
            acc = [(x, a) for x, _, a in pts if a is not None]
            if sp:
                ax.plot([p[0] for p in sp], [p[1] for p in sp], color=color[k], marker=marker, linestyle="-")
            if acc:
                acc_ax.plot([p[0] for p in acc], [p[1] for p in acc], color=color[k], marker=marker,
                            linestyle="--", markerfacecolor="white")
            dense = sorted({r["accuracy_dense"] for r in sparsity if r["device"] == dev and
                            r["model"] == k[0] and r["accuracy_dense"] is not None})
            for a in dense[:1]:
                acc_ax.axhline(a, color="gray", linewidth=0.6, linestyle=":")
                acc_ax.annotate(f"{k[0]} dense", (1.0, a), xycoords=("axes fraction", "data"), xytext=(-2, 1),
                                textcoords="offset points", ha="right", va="bottom", fontsize=7, color="gray")
        ax.axhline(1.0, color="gray", linewidth=0.8)
        ax.set_xlabel("sparsity (%)")
        ax.set_ylabel("speedup over dense (x), solid")
        acc_ax.set_ylabel("accuracy (%), dashed; dotted: dense")
        ax.set_title(dev, fontsize=10)
        ax.grid(linewidth=0.3, alpha=0.5)
    handles = [Line2D([], [], color=color[k], marker="s" if k[1] else "o", label=name[k]) for k in kinds]
    handles += [Line2D([], [], color="black", linestyle="-", label="speedup (left)"),
                Line2D([], [], color="black", linestyle="--", label="accuracy (right)")]
    save(fig, out_dir, "sparsity.png", "TinyMLPerf: pruning, speedup and accuracy against sparsity", handles)
    return None


def plot_roofline(peaks, kernels, out_dir):
    kernels = [k for k in kernels if positive(k["gflops"]) and positive(k["intensity"])]
    peaks = [p for p in peaks if positive(p["gflops"]) and positive(p["gbps"])]
    if not peaks and not kernels:
        return "series.roofline is missing or empty"
    devices = sorted({p["device"] for p in peaks} | {k["device"] for k in kernels})
    fig, axes = grid(len(devices), width=8.6, height=5.0, max_cols=2)
    cmap, markers = plt.get_cmap("tab20"), "os^Dv<>p"
    for ax, dev in zip(axes, devices):
        mine = sorted((k for k in kernels if k["device"] == dev), key=lambda k: (k["op"], k["variant"]))
        peak = next((p for p in sorted(peaks, key=lambda p: (p["gflops"], p["gbps"])) if p["device"] == dev), None)
        xs = [k["intensity"] for k in mine]
        if peak:
            xs.append(peak["gflops"] / peak["gbps"])  # the ridge point
        lo, hi = min(xs) / 8, max(xs) * 8
        if peak:
            ridge = peak["gflops"] / peak["gbps"]
            x = [lo] + ([ridge] if lo < ridge < hi else []) + [hi]
            ax.plot(x, [min(peak["gflops"], peak["gbps"] * v) for v in x], color="black", linewidth=1.5)
            ax.annotate(f"{peak['gflops']:.4g} GFLOP/s", (min(max(ridge, lo), hi), peak["gflops"]), xytext=(3, 3),
                        textcoords="offset points", ha="left", va="bottom", fontsize=8)
            ax.annotate(f"{peak['gbps']:.4g} GB/s", (lo, peak["gbps"] * lo), xytext=(3, 3),
                        textcoords="offset points", ha="left", va="bottom", fontsize=8)
        else:
            ax.text(0.02, 0.96, "no peak measured", transform=ax.transAxes, fontsize=8, va="top")
        for i, k in enumerate(mine):  # a legend, not labels: kernels of like intensity would overlap
            ax.plot(k["intensity"], k["gflops"], marker=markers[i % len(markers)], linestyle="none",
                    color=cmap(i % 20), label=f"{k['op']}/{k['variant']}")
        if mine:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
                      ncol=1 + len(mine) // 25)
        ys = [k["gflops"] for k in mine] + ([peak["gflops"], peak["gbps"] * lo] if peak else [])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(min(ys) / 4, max(ys) * 4)
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("arithmetic intensity (flop/byte)")
        ax.set_ylabel("GFLOP/s")
        ax.set_title(dev, fontsize=10)
        ax.grid(which="both", linewidth=0.3, alpha=0.5)
    save(fig, out_dir, "roofline.png", "TinyMLPerf: roofline")
    return None


def main(argv):
    ap = argparse.ArgumentParser(prog="plot_tinymlperf.py",
                                 description="Plots DIR/results.json of `tinycl bench tinymlperf` into speedup.png, "
                                             "kvcache.png, sparsity.png and roofline.png in DIR.")
    ap.add_argument("dir", metavar="DIR", help="a results folder: the bench's timestamped folder under --out")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.dir):
        ap.print_usage(sys.stderr)
        print(f"plot_tinymlperf.py: {args.dir}: not a directory", file=sys.stderr)
        return 2
    path = os.path.join(args.dir, "results.json")
    try:
        doc = load(path)
        records = read_records(doc)
        kv, sparsity, peaks, kernels = read_series(doc)
    except Malformed as e:
        print(f"plot_tinymlperf.py: {path}: {e}", file=sys.stderr)
        return 1
    if not import_matplotlib():
        return 1
    colors = device_colors([r["device"] for r in records + kv + sparsity + peaks + kernels])
    plots = (("speedup.png", lambda: plot_speedup(records, colors, args.dir)),
             ("kvcache.png", lambda: plot_kvcache(kv, colors, args.dir)),
             ("sparsity.png", lambda: plot_sparsity(sparsity, args.dir)),
             ("roofline.png", lambda: plot_roofline(peaks, kernels, args.dir)))
    for name, plot in plots:
        try:
            why = plot()
        except OSError as e:
            print(f"plot_tinymlperf.py: {os.path.join(args.dir, name)}: {e.strerror or e}", file=sys.stderr)
            return 1
        if why:
            print(f"{name}: skipped: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
