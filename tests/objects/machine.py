"""Model-based testing of a library object: the real cluster against the same class run locally.

A subclass of ``ObjectMachine`` names the object module and writes hypothesis rules that call
``self.call(client, method, *args)``. Each call goes to the cluster (through a client proxy, one
per simulated client: ownership is per session) and to a ``LocalObject`` holding the same class;
the outcomes must be equal, and after every step so must ``str(obj)`` on both sides (the
replica's ``status()['object']``).

Calls the model parks (a blocking acquire, get, wait...) are sent asynchronously; the machine
waits until the replica shows the same state (so that the parked call is known to have run
before any later call), and compares each wake-up the model produces with the remote call's
eventual result. Between examples the object is reset with ``__concoordinit__``.
"""

import importlib
import time

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, run_state_machine_as_test

from concoord.client.proxy import ClientProxy
from concoord.client.status import query_status
from tests.objects.conftest import CLASS_NAMES
from tests.objects.local import LocalObject, remote_outcome

REMOTE_TIMEOUT = 10.0
SETTINGS = settings(max_examples=25, stateful_step_count=30, deadline=None,
                    suppress_health_check=list(HealthCheck))


class ObjectMachine(RuleBasedStateMachine):
    module = None          # the object module, e.g. "lock"
    n_clients = 3
    bootstrap = None       # set by run()
    proxies = None         # shared by every example of one run

    def __init__(self):
        super().__init__()
        self.local = None
        self.pending = {}   # (client id, number) in the model -> the remote call's future

    @classmethod
    def run(cls, bootstrap, settings=SETTINGS):
        cls.bootstrap = bootstrap
        cls.proxies = [ClientProxy(bootstrap, session_lease=30) for _ in range(cls.n_clients)]
        try:
            run_state_machine_as_test(cls, settings=settings)
        finally:
            for proxy in cls.proxies:
                proxy.close()

    @classmethod
    def object_class(cls):
        module = importlib.import_module(f"concoord.objects.{cls.module}")
        return getattr(module, CLASS_NAMES[cls.module])

    def reset(self, *init_args):
        """Start an example from a fresh object, on the cluster and in the model."""
        self.proxies[0]._invoke("__concoordinit__", init_args, {})
        self.local = LocalObject(self.object_class(), *init_args)

    def call(self, client, method, *args, **kwargs):
        """Run one call on both sides; returns the model's outcome."""
        proxy = self.proxies[client]
        future = proxy._invoke_async(method, args, kwargs)
        caller, expected = self.local.command((proxy.client_id, proxy._thread_number()),
                                              method, *args, **kwargs)
        if expected == ("parked",):
            self._wait_same_state()
            assert not future.done(), f"{method}{args} parked in the model only"
            self.pending[caller] = future
        else:
            actual = remote_outcome(lambda: future.result(REMOTE_TIMEOUT))
            assert actual == expected, f"{method}{args}: cluster {actual}, model {expected}"
        self._check_wakeups()
        return expected

    def _check_wakeups(self):
        for caller, expected in self.local.wakeups().items():
            future = self.pending.pop(caller)
            actual = remote_outcome(lambda: future.result(REMOTE_TIMEOUT))
            assert actual == expected, f"woken call: cluster {actual}, model {expected}"
        for future in self.pending.values():
            assert not future.done(), f"the cluster completed a call the model still parks: " \
                f"{remote_outcome(future.result)}"

    def _wait_same_state(self):
        deadline = time.monotonic() + REMOTE_TIMEOUT
        while query_status(self.bootstrap)["object"] != self.local.describe():
            assert time.monotonic() < deadline, "the replica never reached the model's state"
            time.sleep(0.005)

    @invariant()
    def same_state(self):
        if self.local is not None:
            assert query_status(self.bootstrap)["object"] == self.local.describe()

    def client_id(self, client):
        return self.proxies[client].client_id

    def client_of(self, client_id):
        """The index of the proxy with this client id (e.g. a job's owner), or None."""
        for index, proxy in enumerate(self.proxies):
            if proxy.client_id == client_id:
                return index
        return None

    def thread_of(self, owner):
        """The index of the proxy whose calling thread is ``owner`` ((client id, thread), e.g.
        a lock's holder), or None. The machine calls every proxy from its own thread."""
        for index, proxy in enumerate(self.proxies):
            if owner == (proxy.client_id, proxy._thread_number()):
                return index
        return None
