"""A client that sends hand-made requests (an attacker's), over an authenticated connection."""

import socket

from concoord import security
from concoord.runtime.ports import split_address
from concoord.security.client_ids import client_id_of
from concoord.wire.codec import FrameReader, encode_frame
from concoord.wire.messages import ClientReply, ClientRequest
from concoord.wire.types import Command
from concoord.wire.values import encode_call_arguments

NO_ARGUMENTS = encode_call_arguments([], {})


class RawClient:
    """``call(client_id, number, method, args=bytes, key=...)`` sends one request and waits for
    its reply (None if the node closed the connection)."""

    def __init__(self, address, credential, timeout=60):
        raw = socket.create_connection(split_address(address), timeout=timeout)
        self.sock = security.Security(credential.encode()).connected(raw, security.CLIENT)
        self.sock.settimeout(timeout)
        self.frames = FrameReader()

    def send(self, client_id, number, method, args=NO_ARGUMENTS, key=None):
        command = Command(client_id, number, method, args)
        self.sock.sendall(encode_frame(ClientRequest(key or client_id, command)))

    def send_as(self, key, number, method, args=NO_ARGUMENTS):
        """Send a call under the id ``key`` proves, without waiting for its reply."""
        self.send(client_id_of(key), number, method, args, key=key)

    def call(self, client_id, number, method, args=NO_ARGUMENTS, key=None):
        self.send(client_id, number, method, args, key)
        while True:
            data = self.sock.recv(65536)
            if not data:
                return None
            for msg in self.frames.feed(data):
                if isinstance(msg, ClientReply) and msg.number == number:
                    return msg

    def call_as(self, key, number, method, args=NO_ARGUMENTS):
        """A call under the id ``key`` proves: what a legitimate client sends."""
        return self.call(client_id_of(key), number, method, args, key=key)

    def close(self):
        self.sock.close()
