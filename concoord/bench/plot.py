"""--plot: throughput against the number of clients, and latency CDFs (needs matplotlib)."""

from concoord.errors import ConcoordError


def plot(path, sweeps, cdfs):
    """``sweeps``: {system: [(clients, ops/s)]}; ``cdfs``: {label: sorted latencies in s}."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConcoordError("--plot needs matplotlib: pip install 'concoord[plot]'") from None
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for system, sweep in sweeps.items():
        if sweep:
            clients, rates = zip(*sweep)
            left.plot(clients, rates, marker="o", label=system)
            left.set_xscale("log", base=2)
            left.set_xticks(clients, [str(c) for c in clients])
    if len(sweeps) > 1:
        left.legend()
    left.set(title="Throughput (synchronous writes)", xlabel="client threads", ylabel="ops/s")
    left.grid(alpha=0.3)
    colours = {}
    for name, latencies in cdfs.items():
        if latencies:
            # "W1 etcd" (a baseline) is dashed, in the colour of our "W1".
            workload, _, baseline = name.partition(" ")
            fractions = [(i + 1) / len(latencies) for i in range(len(latencies))]
            line, = right.plot([x * 1e3 for x in latencies], fractions, label=name,
                               color=colours.get(workload), linestyle="--" if baseline else "-")
            colours.setdefault(workload, line.get_color())
    right.set(title="Latency CDF", xlabel="latency (ms, log scale)", ylabel="fraction of calls")
    right.set_xscale("log")
    right.grid(alpha=0.3)
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
