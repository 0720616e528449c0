"""Command-line flags of the operations features (no third-party imports: the command's parser
is built in bundles that may lack prometheus-client)."""

import argparse


def add_metrics_flags(parser):
    """--metrics-port and --metrics-address, for replica, acceptor and nameserver."""
    group = parser.add_argument_group("metrics")
    group.add_argument("--metrics-port", type=port_number, metavar="PORT",
                       help="serve Prometheus metrics at http://ADDRESS:PORT/metrics (and "
                       "nothing else there); off unless given")
    group.add_argument("--metrics-address", default="127.0.0.1", metavar="ADDRESS",
                       help="address the metrics listen on (default 127.0.0.1: this host only; "
                       "0.0.0.0 for a Prometheus server elsewhere)")


def port_number(text):
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number in 1-65535")
    return int(text)
