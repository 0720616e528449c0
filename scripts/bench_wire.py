#!/usr/bin/env python3
"""Micro-benchmark of the wire codec: encode and decode times per message, in microseconds.

Messages: ClientRequest, ClientReply, Accept, Accepted, Decision (Accept and Decision with a
1-command and a 100-command batch), plus an acceptor's disk record; and the value codec: a
call's arguments and a result, flat (scalars) and nested (a tuple and a set). Each figure is the best of
``--repeat`` timings of ``--number`` calls (the least disturbed by other processes).

    python scripts/bench_wire.py [--number N] [--repeat R] [--json]

It uses only the codec's public functions, so the same script measures any checkout: run it with
``PYTHONPATH=<checkout>`` to compare two versions side by side.
"""

import argparse
import json
import sys
import timeit

from concoord.wire import codec
from concoord.wire.codec import FrameReader, decode_body, decode_record, encode_frame, \
    encode_record
from concoord.wire.messages import Accept, Accepted, ClientReply, ClientRequest, Decision
from concoord.wire.types import Ballot, Batch, Command, PValue
from concoord.wire.values import decode_call_arguments, decode_value, encode_call_arguments, \
    encode_value


def sample_messages():
    ballot = Ballot(12, "127.0.0.1:14000", 1795529621391164933)
    args = encode_call_arguments([1, "x"], {})

    def command(i):
        return Command("3f2a9c1e8b7d4a60", 1000 + i, "increment", args, 1)

    one = Batch(1733312345.125, (command(0),))
    hundred = Batch(1733312345.125, tuple(command(i) for i in range(100)))
    return {
        "ClientRequest": ClientRequest("3f2a9c1e8b7d4a60", command(0)),
        "ClientReply": ClientReply("127.0.0.1:14000", "3f2a9c1e8b7d4a60", 1000, 0,
                                   encode_value(42), None),
        "Accept/1": Accept("127.0.0.1:14000", ballot, 123456, one, 123000),
        "Accept/100": Accept("127.0.0.1:14000", ballot, 123456, hundred, 123000),
        "Accepted": Accepted("127.0.0.1:15000", ballot, 123456),
        "Decision/1": Decision("127.0.0.1:14000", 123456, one),
        "Decision/100": Decision("127.0.0.1:14000", 123456, hundred),
        "record accept/100": ("accept", PValue(ballot, 123456, hundred)),
        "value args [1, 'x']": ([1, "x"], {}),
        "value args nested": ([(1, 2), {3, 4}], {"k": "v"}),
        "value result 42": 42,
    }


def best(function, number, repeat):
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number * 1e6


def measure(number, repeat):
    results = {}
    for name, msg in sample_messages().items():
        if name.startswith("value args"):
            data = encode_call_arguments(*msg)
            encode = lambda msg=msg: encode_call_arguments(*msg)         # noqa: E731
            decode = lambda data=data: decode_call_arguments(data)       # noqa: E731
        elif name.startswith("value"):
            data = encode_value(msg)
            encode = lambda msg=msg: encode_value(msg)                   # noqa: E731
            decode = lambda data=data: decode_value(data)                # noqa: E731
        elif name.startswith("record"):
            data = encode_record(msg)
            assert decode_record(data) == msg
            encode = lambda msg=msg: encode_record(msg)                  # noqa: E731
            decode = lambda data=data: decode_record(data)               # noqa: E731
        else:
            frame = encode_frame(msg)
            assert decode_body(frame[4:]) == msg and FrameReader().feed(frame) == [msg]
            encode = lambda msg=msg: encode_frame(msg)                   # noqa: E731
            decode = lambda frame=frame: FrameReader().feed(frame)       # noqa: E731
            data = frame
        scale = 100 if "/100" in name else 1
        results[name] = {"bytes": len(data),
                         "encode_us": best(encode, max(1, number // scale), repeat),
                         "decode_us": best(decode, max(1, number // scale), repeat)}
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000, help="calls per timing")
    parser.add_argument("--repeat", type=int, default=5, help="timings (the best is kept)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    options = parser.parse_args(argv)
    results = measure(options.number, options.repeat)
    if options.json:
        print(json.dumps({"version": codec.VERSION, "results": results}))
        return 0
    print(f"wire version {codec.VERSION} ({codec.__file__})")
    print(f"{'message':<22}{'bytes':>8}{'encode us':>12}{'decode us':>12}")
    for name, row in results.items():
        print(f"{name:<22}{row['bytes']:>8}{row['encode_us']:>12.2f}{row['decode_us']:>12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
