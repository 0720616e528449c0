"""The command-line flags that set a process's security (concoord.security), for every
`concoord` subcommand that opens or accepts connections."""

from concoord import security


def add_security_flags(parser):
    """--secret-file and TLS: every connection this command makes or accepts uses them."""
    group = parser.add_argument_group(
        "security", "Without a secret, anyone who can reach a node's port can join the instance "
        "or reconfigure it: use one (and TLS) on any network you do not fully trust.")
    group.add_argument("--secret-file", metavar="FILE",
                       help="file holding the instance's shared secret (at least 16 characters; "
                       "`concoord secret` makes one); every connection must prove it knows it. "
                       "Default: $CONCOORD_SECRET, or the file named by $CONCOORD_SECRET_FILE")
    group.add_argument("--tls-cert", metavar="PEM", help="this node's TLS certificate")
    group.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    group.add_argument("--tls-ca", metavar="PEM", help="the CA that signed every node's and "
                       "client's certificate; peers not signed by it are refused")
    group.add_argument("--node-cert", metavar="FILE", help="this node's certificate (`concoord "
                       "secret --node-cert HOST:PORT --ca CA_FILE` makes one); with it, the "
                       "node proves which node it is, and accepts node connections only from "
                       "nodes with a certificate of the same CA for the node they name")


def configure_from_args(args):
    """After parsing: commands with these flags make every connection use them. (initialize
    and addnode have a --secret-file of their own, for the instance they deploy.)"""
    if hasattr(args, "tls_ca"):
        security.configure(security.Security.from_files(
            args.secret_file, args.tls_cert, args.tls_key, args.tls_ca,
            getattr(args, "node_cert", None)))
