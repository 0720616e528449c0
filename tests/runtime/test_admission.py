"""What a node accepts from a connection, by the role its peer authenticated as."""

from types import SimpleNamespace

import pytest

from concoord import security
from concoord.runtime.admission import (ACCEPT, DISCONNECT, DROP, MAX_IDS_PER_CONNECTION,
                                       REFUSE, REFUSE_ID, Admission)
from concoord.security.client_ids import client_id_of
from concoord.wire.messages import BLOCKED, OK, Accept, ClientReply, ClientRequest, StatusRequest
from concoord.wire.types import Ballot, Batch, Command


class Connection(SimpleNamespace):
    __hash__ = object.__hash__          # connections are told apart by identity
    __eq__ = object.__eq__


def conn(role, node_id=None):
    return Connection(role=role, peer="127.0.0.1:5", node_id=node_id)


KEY = "the-client-key"
ID = client_id_of(KEY)


def request(method, number=1, key=KEY, client_id=ID):
    return ClientRequest(key, Command(client_id, number, method, b"\x92\x90\x80"))


ACCEPT_MSG = Accept("n", Ballot(1, "n", 1), 1, Batch(0.0, ()), 1)


@pytest.mark.parametrize("method", ["@join", "@remove"])
def test_membership_commands_only_from_nodes(method):
    admission = Admission(10)
    assert admission.check(conn(security.CLIENT), request(method)) == REFUSE
    assert admission.check(conn(security.NODE), request(method)) == ACCEPT
    assert admission.check(conn(None), request(method)) == ACCEPT   # no secret: all trusted


def test_consensus_messages_from_a_client_disconnect_it():
    admission = Admission(10)
    assert admission.check(conn(security.CLIENT), ACCEPT_MSG) == DISCONNECT
    assert admission.check(conn(security.NODE, "n"), ACCEPT_MSG) == ACCEPT
    assert admission.check(conn(security.CLIENT), StatusRequest("s")) == ACCEPT
    assert admission.check(conn(security.CLIENT), request("increment")) == ACCEPT


def test_a_node_connection_speaks_only_for_the_node_it_named():
    admission = Admission(10)
    node = conn(security.NODE, "n")
    assert admission.check(node, ACCEPT_MSG) == ACCEPT
    forged = Accept("m", Ballot(1, "m", 1), 1, Batch(0.0, ()), 1)
    assert admission.check(node, forged) == DROP
    assert admission.check(node, forged) == DROP and admission.forged == 2
    assert admission.check(node, ACCEPT_MSG) == ACCEPT        # the connection is kept
    nameless = conn(security.NODE)          # a join request's connection names no node
    assert admission.check(nameless, ACCEPT_MSG) == DROP
    assert admission.check(nameless, request("@join")) == ACCEPT
    assert admission.check(nameless, StatusRequest("s")) == ACCEPT
    assert admission.check(conn(None), forged) == ACCEPT      # no secret: all trusted


def test_in_flight_limit_counts_unanswered_distinct_requests():
    admission, client = Admission(2), conn(security.CLIENT)
    assert admission.check(client, request("m", 1)) == ACCEPT
    assert admission.check(client, request("m", 1)) == ACCEPT      # a resend is not a new call
    assert admission.check(client, request("m", 2)) == ACCEPT
    assert admission.check(client, request("m", 3)) == DISCONNECT
    admission.answered(client, ClientReply("r", ID, 2, BLOCKED, b"", None))  # parked: waits
    assert admission.check(client, request("m", 3)) == DISCONNECT
    admission.answered(client, ClientReply("r", ID, 2, OK, b"", None))
    assert admission.check(client, request("m", 3)) == ACCEPT
    other = conn(security.CLIENT)                                 # others are unaffected
    assert admission.check(other, request("m", 9)) == ACCEPT


def test_a_request_must_carry_the_key_of_its_client_id():
    admission = Admission(10)
    for role in (security.CLIENT, security.NODE, None):
        assert admission.check(conn(role), request("m", key=ID)) == REFUSE_ID    # id as key
        assert admission.check(conn(role), request("m", key="another-key")) == REFUSE_ID
        assert admission.check(conn(role), request("m")) == ACCEPT


def test_a_connection_may_use_only_so_many_client_ids():
    admission, client = Admission(10**6), conn(security.CLIENT)
    keys = [f"key-{i}" for i in range(MAX_IDS_PER_CONNECTION + 1)]
    for key in keys[:-1]:
        assert admission.check(client, request("m", key=key, client_id=client_id_of(key))) == ACCEPT
    assert admission.check(client, request("m", 2, key=keys[0], client_id=client_id_of(keys[0]))) == ACCEPT
    last = keys[-1]
    assert admission.check(client, request("m", key=last, client_id=client_id_of(last))) == DISCONNECT
    assert admission.check(conn(security.CLIENT), request("m", key=last,
                                                          client_id=client_id_of(last))) == ACCEPT


def test_large_malformed_arguments_are_refused_before_they_are_proposed():
    import msgpack
    from concoord.runtime.admission import Refused
    from concoord.wire.values import EXT_SET, encode_value
    colliding = [k * (2**61 - 1) + 7 for k in range(1, 200)]
    bomb = msgpack.packb([[msgpack.ExtType(EXT_SET, encode_value(colliding))], {}])
    admission = Admission(10)
    verdict = admission.check(conn(security.CLIENT),
                              ClientRequest(KEY, Command(ID, 1, "m", bomb)))
    assert isinstance(verdict, Refused) and b"collide" in verdict.value
    fine = encode_value([[list(range(1000))], {}])
    assert admission.check(conn(security.CLIENT), ClientRequest(KEY, Command(ID, 2, "m", fine))) \
        == ACCEPT
