#!/usr/bin/env python3
"""Coverage-guided fuzzing of the wire decoders and the DNS query handler, with atheris.

    python scripts/fuzz.py wire -runs=1000000
    python scripts/fuzz.py dns -runs=200000

Arguments after the target go to libFuzzer (-runs=N, -max_total_time=S, -max_len=N, ...). The
targets and their properties are in tests/fuzz/targets.py; a failing input is written to
crash-* in the current directory and replays with `python scripts/fuzz.py wire crash-...`.
"""

import os
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

try:
    import atheris
except ImportError:
    raise SystemExit("fuzz: needs atheris (pip install 'concoord[fuzz]', or `make fuzz`)")

with atheris.instrument_imports():
    import concoord.wire.codec  # noqa: F401 - instrumented for coverage
    import concoord.wire.values  # noqa: F401
    import concoord.dns.responder  # noqa: F401
    import dns.message  # noqa: F401

from tests.fuzz import targets  # noqa: E402

TARGETS = {"wire": (targets.wire, targets.wire_corpus),
           "dns": (targets.dns_query, targets.dns_corpus)}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        raise SystemExit(f"usage: fuzz.py {{{','.join(TARGETS)}}} [libFuzzer flags]")
    target, corpus = TARGETS[sys.argv[1]]
    seeds = tempfile.mkdtemp(prefix=f"concoord-fuzz-{sys.argv[1]}-")
    for index, data in enumerate(corpus()):
        pathlib.Path(seeds, f"seed-{index}").write_bytes(data)
    flags = [arg for arg in sys.argv[2:]]
    replay = [arg for arg in flags if not arg.startswith("-")]
    argv = [sys.argv[0], *flags] + ([] if replay else [seeds])
    atheris.Setup(argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
