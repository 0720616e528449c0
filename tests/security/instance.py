"""An instance whose nodes all run with --secret-file: the node secret, and the client
credential that legitimate clients (and attackers who are clients) hold."""

from concoord import security

NODE_SECRET = "correct-horse-battery-staple-0123456789"
CLIENT_CREDENTIAL = security.Security(NODE_SECRET.encode()).keys[security.CLIENT].decode()


def start_secured(harness, tmp_path, *object_args, node_args=()):
    """One replica of ``object_args`` (-f/-c or -o) and one acceptor; returns the replica."""
    path = tmp_path / "node.secret"
    path.write_text(NODE_SECRET + "\n")
    path.chmod(0o600)
    harness.node_args = ["--secret-file", str(path), *node_args]
    security.configure(security.Security(NODE_SECRET.encode()))    # the harness's probes
    replica = harness._start("replica", list(object_args), None, True)
    harness.start_acceptor(replica)
    return replica
