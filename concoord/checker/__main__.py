"""``python -m concoord.checker -f counter.py -c Counter HISTORY.jsonl...``: merge the history
files written by RecordingProxy/HistoryWriter and check them; exit status 1 on a violation."""

import argparse
import sys
import time

from concoord.checker.history import load_history
from concoord.checker.linearizability import check
from concoord.codegen.loader import load_class


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m concoord.checker",
                                     description="Check recorded client histories for "
                                     "linearizability, using the object's class as the model.")
    parser.add_argument("-f", "--objectfile", help="the object's file (its server-side copy)")
    parser.add_argument("-c", "--classname", help="the object's class")
    parser.add_argument("-o", "--object", dest="dotted", help="package.module.Class instead")
    parser.add_argument("histories", nargs="+", help="JSON-lines history files to merge")
    args = parser.parse_args(argv)
    object_class = load_class(path=args.objectfile, class_name=args.classname,
                              dotted=args.dotted)
    history = load_history(args.histories)
    print(history.summary())
    started = time.monotonic()
    result = check(history, object_class)
    print(result.explain())
    print(f"checked in {time.monotonic() - started:.2f} s")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
