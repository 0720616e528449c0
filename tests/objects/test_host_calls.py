"""What the ObjectHost lets a client call, and the caller it reports: readonly properties,
client-side methods, per-thread owners (in-process, with the replicas' own ObjectHost)."""

from concoord import client_side, readonly
from concoord.blocking import current_caller
from tests.objects.local import LocalObject


class Thing:
    def __init__(self):
        self.size_value = 3

    @property
    @readonly
    def size(self):
        return self.size_value

    @property
    def plain(self):
        return "plain"

    @client_side
    def local_only(self):
        return "client"

    def owner(self):
        return current_caller().owner


def test_a_readonly_property_is_read_without_arguments():
    thing = LocalObject(Thing)
    assert thing.host.is_readonly("size")
    assert thing.call("c", "size") == ("ok", 3)
    assert thing.call("c", "size", 1)[:2] == ("raised", "TypeError")


def test_other_properties_and_client_side_methods_are_refused():
    thing = LocalObject(Thing)
    assert thing.call("c", "plain")[:2] == ("raised", "AttributeError")
    outcome = thing.call("c", "local_only")
    assert outcome[:2] == ("raised", "AttributeError") and "runs in the client" in outcome[2][0]


def test_the_owner_is_the_calling_thread_of_the_client():
    thing = LocalObject(Thing)
    assert thing.call(("c", 1), "owner") == ("ok", ("c", 1))
    assert thing.call(("c", 2), "owner") == ("ok", ("c", 2))
