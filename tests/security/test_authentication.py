"""A shared secret (--secret-file): real nodes, real clients, and strangers that do not know it."""

import socket

import pytest

from concoord import security
from concoord.client.proxy import ClientProxy
from concoord.errors import AuthenticationError
from concoord.runtime.ports import split_address
from concoord.security import handshake
from concoord.wire.codec import encode_frame
from concoord.wire.messages import Accept, Heartbeat, Prepare
from concoord.wire.types import Ballot, Batch, Configuration

SECRET = "correct-horse-battery-staple-0123456789"
MAX_INT = 2**63 - 1

CLIENT = '''\
from concoord.errors import AuthenticationError
from concoord.runtime.ports import split_address
from counterproxy import Counter
try:
    Counter(BOOTSTRAP, timeout=20).increment()
    print("served")
except AuthenticationError as exc:
    print("refused:", exc)
'''


@pytest.fixture
def secured(counter_harness, tmp_path):
    """An instance of the README's Counter whose nodes all have --secret-file."""
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")
    path.chmod(0o600)
    counter_harness.node_args = ["--secret-file", str(path)]
    security.configure(security.Security(SECRET.encode()))    # for the harness's probes
    replica = counter_harness.start_replica()
    acceptor = counter_harness.start_acceptor(replica)
    return counter_harness, replica, acceptor


def _served(replica, expected):
    with ClientProxy(replica.address, timeout=10, secret=SECRET) as proxy:
        proxy._invoke("increment")
        assert proxy._invoke("getvalue") == expected


def _closed_without_answer(sock):
    sock.settimeout(10)     # past the handshake's deadline
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


def test_clients_with_the_secret_are_served_others_refused(secured):
    h, replica, _ = secured
    _served(replica, 1)
    out = h.run_client(CLIENT, bootstrap=replica)              # no secret in its environment
    assert out.stdout.startswith("refused: authentication failed"), out.stdout + out.stderr
    h.extra_env = {"CONCOORD_SECRET": "a-wrong-secret-of-enough-length"}
    out = h.run_client(CLIENT, bootstrap=replica)
    assert "refused: authentication failed" in out.stdout, out.stdout + out.stderr
    h.extra_env = {"CONCOORD_SECRET": SECRET}
    assert h.run_client(CLIENT, bootstrap=replica).stdout.strip() == "served"
    _served(replica, 3)


@pytest.mark.parametrize("secret_args", [[], ["--secret-file", "wrong"]])
def test_a_node_without_the_secret_cannot_join(secured, tmp_path, secret_args):
    h, replica, acceptor = secured
    if secret_args:
        (tmp_path / "wrong").write_text("not-the-instance-secret-at-all\n")
        (tmp_path / "wrong").chmod(0o600)
        secret_args = ["--secret-file", str(tmp_path / "wrong")]
    for role_args in (["acceptor"], ["replica", "-f", "counter.py", "-c", "Counter"]):
        result = h.concoord(*role_args, "-b", replica.address, *secret_args, timeout=60)
        assert result.returncode == 1, result.stderr
        assert "authentication failed" in result.stderr, result.stderr
    status = replica.status()
    assert status["replicas"] == [replica.address] and status["acceptors"] == [acceptor.address]
    _served(replica, 1)


def test_a_stranger_cannot_take_over_or_wedge_the_instance(secured):
    """Without the secret no message is even decoded: the largest ballot a stranger can send
    (which wedges an instance that has no secret) is never seen by the protocol."""
    h, replica, acceptor = secured
    _served(replica, 1)
    huge = Ballot(MAX_INT, "~", MAX_INT)
    attacks = [(acceptor, Prepare("127.0.0.1:1", huge, 1)),
               (acceptor, Accept("127.0.0.1:1", huge, 10**6, Batch(0.0, ()), 1)),
               (replica, Heartbeat("127.0.0.1:1", huge, 10**9,
                                   Configuration(("127.0.0.1:1",), ())))]
    for node, message in attacks:
        with socket.create_connection(split_address(node.address)) as sock:
            # Twice: a frame (arrays since wire version 3) can be shorter than the 65 bytes of
            # a handshake answer, and the node would wait for the rest of it.
            sock.sendall(encode_frame(message) * 2)
            reply = _closed_without_answer(sock)
        # All it ever gets is the challenge it could not answer, and a refusal (or, when
        # its bytes did not even fill an answer, the close at the handshake's deadline).
        assert reply.startswith(handshake.MAGIC), reply
        assert len(reply) == len(handshake.MAGIC) + handshake.NONCE or reply.endswith(b"\x00")
    assert acceptor.status()["promised"][0] < MAX_INT
    _served(replica, 2)


def test_an_authenticated_client_cannot_send_consensus_messages(secured):
    h, replica, acceptor = secured
    _served(replica, 1)
    settings = security.Security(SECRET.encode())
    with socket.create_connection(split_address(acceptor.address)) as raw:
        sock = settings.connected(raw, security.CLIENT)
        sock.sendall(encode_frame(Accept("127.0.0.1:1", Ballot(MAX_INT, "~", MAX_INT), 10**6,
                                         Batch(0.0, ()), 1)))
        assert _closed_without_answer(sock) == b""
    assert acceptor.status()["promised"][0] < MAX_INT
    _served(replica, 2)


def test_clients_cannot_change_the_membership(secured):
    h, replica, acceptor = secured
    with ClientProxy(replica.address, timeout=10, secret=SECRET) as proxy:
        with pytest.raises(PermissionError, match="only the instance's own nodes") as refused:
            proxy._invoke("@join", ("acceptor", "127.0.0.1:9"), {})
        assert refused.value.concoord_refused       # the instance refused: it never ran
        with pytest.raises(PermissionError):
            proxy._invoke("@remove", ("replica", replica.address), {})
        for name in ("__class__", "_private", "__dict__"):
            with pytest.raises(Exception) as caught:
                proxy._invoke(name)
            assert not isinstance(caught.value, AuthenticationError)
        proxy._invoke("increment")
        assert proxy._invoke("getvalue") == 1
    status = replica.status()
    assert status["replicas"] == [replica.address] and status["acceptors"] == [acceptor.address]


def test_status_needs_the_secret_too(secured, tmp_path):
    h, replica, _ = secured
    refused = h.concoord("status", "-b", replica.address)
    assert refused.returncode == 1 and "authentication failed" in refused.stderr, refused.stderr
    shown = h.concoord("status", "-b", replica.address, "--json", *h.node_args)
    assert shown.returncode == 0, shown.stderr
    assert replica.address in shown.stdout


def test_a_second_authenticated_replica_joins_and_serves(secured):
    h, replica, acceptor = secured
    second = h.start_replica(replica)
    h.wait_converged([replica, second], [acceptor])
    _served(second, 1)
    _served(replica, 2)


def test_a_client_with_a_secret_against_a_node_without_one_is_told_why(counter_harness):
    """The node never sends a challenge, so the client's handshake times out: that is retried
    (a node busy with a flood of connections answers late too) and, at the call's deadline,
    the caller learns why."""
    from concoord.errors import ConnectionError
    replica = counter_harness.start_replica()
    with ClientProxy(replica.address, timeout=4, secret=SECRET) as proxy:
        with pytest.raises(ConnectionError) as caught:
            proxy._invoke("getvalue")
    assert not isinstance(caught.value, AuthenticationError)
    assert "no answer to the handshake" in str(caught.value), str(caught.value)
