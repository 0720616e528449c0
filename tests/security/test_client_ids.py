"""Finding 2 of issue 19: a client is who it connected as, not whoever names its id.

The id that the object sees (a Lock's holder, what `concoord status` shows) is public; a
request must carry the key that id was derived from. Another client that learnt a victim's
id, here from the status output, can neither release the victim's lock nor pre-empt the
victim's command numbers.
"""

import socket

import pytest

from concoord import security
from concoord.client.proxy import ClientProxy
from concoord.runtime.ports import split_address
from concoord.wire.codec import FrameReader, encode_frame
from concoord.wire.messages import OK, ClientReply, ClientRequest
from concoord.wire.types import Command
from concoord.wire.values import encode_call_arguments
from tests.integration.harness import wait_until
from tests.security.latency import LatencyProbe

NODE_SECRET = "correct-horse-battery-staple-0123456789"


def _secured(harness, tmp_path, *object_args):
    path = tmp_path / "node.secret"
    path.write_text(NODE_SECRET + "\n")
    path.chmod(0o600)
    harness.node_args = ["--secret-file", str(path)]
    security.configure(security.Security(NODE_SECRET.encode()))
    replica = harness._start("replica", list(object_args), None, True)
    harness.start_acceptor(replica)
    return replica, security.Security(NODE_SECRET.encode()).keys[security.CLIENT].decode()


class Impostor:
    """An authenticated client (it has the client credential) that sends requests under an id
    of its choice, with its own id as the src: all it knows of the victim is the id."""

    def __init__(self, address, credential):
        raw = socket.create_connection(split_address(address), timeout=20)
        self.sock = security.Security(credential.encode()).connected(raw, security.CLIENT)
        self.sock.settimeout(20)
        self.frames = FrameReader()

    def call(self, client_id, number, method, src=None):
        command = Command(client_id, number, method, encode_call_arguments([], {}))
        self.sock.sendall(encode_frame(ClientRequest(src or client_id, command)))
        while True:
            data = self.sock.recv(65536)
            if not data:
                return None
            for msg in self.frames.feed(data):
                if isinstance(msg, ClientReply) and msg.number == number:
                    return msg

    def close(self):
        self.sock.close()


def test_another_client_cannot_release_or_take_a_victims_lock(harness, tmp_path):
    replica, credential = _secured(harness, tmp_path, "-o", "concoord.objects.lock.Lock")
    with ClientProxy(replica.address, timeout=30, secret=credential) as victim:
        assert victim._invoke("acquire") == 1
        holder = victim.client_id
        assert holder in replica.status()["object"]        # status shows the holder's id ...
        impostor = Impostor(replica.address, credential)   # ... and the impostor uses it
        with LatencyProbe(replica.address, credential, "finding 2: forged client id",
                          method="locked") as probe:
            for number in range(1, 40):
                reply = impostor.call(holder, number, "release")
                assert reply is None or reply.status != OK, reply
            impostor.close()
        probe.assert_served()
        assert holder in replica.status()["object"]        # still the victim's
        victim._invoke("release")
        assert victim._invoke("acquire") == 2


def test_another_client_cannot_use_a_victims_command_numbers(counter_harness, tmp_path):
    h = counter_harness
    replica, credential = _secured(h, tmp_path, "-f", h.object_file, "-c", h.class_name)
    with ClientProxy(replica.address, timeout=30, secret=credential,
                     session_lease=None) as victim:
        victim._invoke("increment")
        impostor = Impostor(replica.address, credential)
        for number in range(2, 12):        # the victim's next numbers, as decrement calls
            reply = impostor.call(victim.client_id, number, "decrement")
            assert reply is None or reply.status != OK, reply
        impostor.close()
        for _ in range(3):
            victim._invoke("increment")
        assert victim._invoke("getvalue") == 4
