"""What a node accepts from a connection, by who the peer proved to be and how much it asks.

With a shared secret every connection authenticates as a node or a client (concoord.security).
A client may only send requests and status probes, and never the commands that change who is
in the instance; consensus messages from a client connection are an attack or a bug, and the
connection is closed. Without a secret every peer is trusted alike (role None).

A node connection speaks for the one node its handshake named (its listening address): a
protocol message on it whose ``src`` is another node's (a forged Decision "from" a replica, a
Promise "from" an acceptor) is dropped, and counted in ``forged``; the first of each connection
is logged. A node connection that named no node (a join request) may send only what a client
may, and @join/@remove. With node certificates (concoord.security.node_certs) a node connection
has proven which node ids it may use, and may @join or @remove only those. Replies go to
``src``, so the sender can only ever hear answers meant for itself.

A request's ``src`` is the key its client id was derived from (concoord.security.client_ids):
a request whose id is not its key's is refused, so no client can act under another's id. The
node then hands the protocol the request with src = client id (the key goes no further).

Every request's arguments, however small, are decoded here once (within the caps of
concoord.wire.values: hash-collision bombs, oversized integers, deep nesting) and the request is
refused if they are malformed: a node only hands the protocol a command it could run, so the
leader never proposes a malformed one, and it never enters the log, where every replica would
decode it again, now and on replay. (Followers answer with a redirect and never forward, so
this check on the node a client reached is the check before proposing.) The arguments of a call
without any, the commonest, are known good and not decoded again.

Each client connection may also have only so many requests unanswered, and use only so many
client ids (a proxy uses one; every new id costs replicated state on every replica): a client
that floods a node is disconnected, and the others are unaffected.
"""

import logging

from concoord import security
from concoord.protocol.replica_node import NODE_ONLY
from concoord.security.client_ids import client_id_of
from concoord.errors import WireError
from concoord.wire.messages import BLOCKED, ClientRequest, StatusRequest
from concoord.wire.values import (ExceptionValue, decode_call_arguments, encode_call_arguments,
                                  encode_value)

log = logging.getLogger("concoord.admission")

CLIENT_MESSAGES = (ClientRequest, StatusRequest)
MAX_IDS_PER_CONNECTION = 16
NO_ARGUMENTS = encode_call_arguments([], {})
ACCEPT, DISCONNECT, DROP = "accept", "disconnect", "drop"


class Refused:
    """The verdict for a request answered with an error, without running: ``value`` is the
    encoded exception."""

    __slots__ = ("value",)

    def __init__(self, type_name, message):
        self.value = encode_value(ExceptionValue(type_name, [message]))


REFUSE = Refused("PermissionError", "only the instance's own nodes may change its membership")
REFUSE_ID = Refused("PermissionError", "the request's client id is not derived from its key")


def _member_named(command):
    """The node id a @join (role, id) or @remove (id) names; None if malformed."""
    try:
        args, _ = decode_call_arguments(command.args)
    except WireError:
        return None
    index = 1 if command.method == "@join" else 0
    return args[index] if len(args) > index and isinstance(args[index], str) else None


class Admission:
    """Decides, on the protocol thread, what happens to each message from a connection."""

    def __init__(self, max_in_flight):
        self.max_in_flight = max_in_flight
        self._in_flight = {}     # connection -> {(client id, number) not yet answered}
        self._ids = {}           # connection -> the client ids it has used
        self._keys = {}          # connection -> {client key: its id} (hashed once)
        self._forgers = set()    # connections that sent a message in another node's name
        self.forged = 0          # such messages dropped, in all

    def check(self, conn, msg):
        """ACCEPT, DISCONNECT, DROP (ignore it), or a Refused (answer the request with its
        error)."""
        role = getattr(conn, "role", None)
        client = role == security.CLIENT
        if client and not isinstance(msg, CLIENT_MESSAGES):
            log.warning("closing connection from %s: a client sent %s", conn.peer,
                        type(msg).__name__)
            return DISCONNECT
        if not isinstance(msg, ClientRequest):
            if role == security.NODE and not isinstance(msg, StatusRequest) \
                    and msg.src != getattr(conn, "node_id", None):
                return self._forged(conn, msg)
            return ACCEPT
        if self._id_of(conn, msg.src) != msg.command.client_id:
            log.warning("refused a request from %s: its client id is not its key's", conn.peer)
            return REFUSE_ID
        ids = self._ids.setdefault(conn, set())
        if msg.command.client_id not in ids:
            if len(ids) >= MAX_IDS_PER_CONNECTION:
                log.warning("closing connection from %s: over %d client ids", conn.peer,
                            MAX_IDS_PER_CONNECTION)
                return DISCONNECT
            ids.add(msg.command.client_id)
        if client and msg.command.method in NODE_ONLY:
            log.warning("refused %s from client %s: only nodes may", msg.command.method, conn.peer)
            return REFUSE
        proven = getattr(conn, "proven_ids", None)
        if proven is not None and msg.command.method in NODE_ONLY:
            named = _member_named(msg.command)
            if named not in proven:
                log.warning("refused %s of %s from %s: its node certificate is for %s",
                            msg.command.method, str(named)[:80], conn.peer,
                            ", ".join(sorted(proven)))
                return Refused("PermissionError", f"this node's certificate is not for "
                               f"{str(named)[:80]}: a node may only join or leave as itself")
        if msg.command.args != NO_ARGUMENTS:
            try:
                decode_call_arguments(msg.command.args)
            except WireError as exc:
                log.debug("refused %s from %s: %s", msg.command.method, conn.peer, exc)
                return Refused("TypeError", f"malformed arguments: {exc}")
        waiting = self._in_flight.setdefault(conn, set())
        key = (msg.command.client_id, msg.command.number)
        if key not in waiting and len(waiting) >= self.max_in_flight:
            log.warning("closing connection from %s: over %d requests in flight", conn.peer,
                        self.max_in_flight)
            return DISCONNECT
        waiting.add(key)
        return ACCEPT

    def _forged(self, conn, msg):
        self.forged += 1
        if conn not in self._forgers:
            self._forgers.add(conn)
            log.warning("dropping %s from %s: the connection speaks for %s, not for %s "
                        "(further such messages on it are dropped silently)",
                        type(msg).__name__, conn.peer, getattr(conn, "node_id", None) or "no node",
                        str(msg.src)[:80])
        return DROP

    def _id_of(self, conn, key):
        """client_id_of(key), hashed once per key and connection (it runs for every request;
        a connection has at most MAX_IDS_PER_CONNECTION ids, so at most that many keys
        pass, plus one refused key kept at a time)."""
        known = self._keys.setdefault(conn, {})
        client_id = known.get(key)
        if client_id is None:
            if len(known) > MAX_IDS_PER_CONNECTION:
                known.clear()
            client_id = known[key] = client_id_of(key)
        return client_id

    def answered(self, conn, reply):
        """A reply went out on ``conn``; a parked call (BLOCKED) is still waiting."""
        if reply.status != BLOCKED:
            waiting = self._in_flight.get(conn)
            if waiting is not None:
                waiting.discard((reply.client_id, reply.number))

    def forget(self, conn):
        self._in_flight.pop(conn, None)
        self._ids.pop(conn, None)
        self._keys.pop(conn, None)
        self._forgers.discard(conn)
