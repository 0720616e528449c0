"""A client's session: opened through the log, kept alive in the background.

While the proxy lives, a daemon thread sends a keepalive every third of the lease; the leader
answers without using a log slot. If the client process dies, keepalives stop and, once the lease
has run out, the instance releases what the client held (locks, permits) and cancels its parked
calls, through the log so that every replica agrees.
"""

import logging
import threading
import weakref

log = logging.getLogger("concoord.client")

DEFAULT_LEASE = 5.0


class SessionKeeper:
    def __init__(self, proxy, lease):
        self._proxy = weakref.ref(proxy)     # the proxy's __del__ must still run
        self.lease = lease
        self._stop = threading.Event()
        self._started = False
        self._lock = threading.Lock()

    def ensure_started(self):
        """Open the session on the first call (so that creating a proxy stays free)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        proxy = self._proxy()
        if proxy is not None:
            proxy._invoke_async("@session", (self.lease,), {}, internal=True)
        threading.Thread(target=self._keep_alive, daemon=True,
                         name="concoord-session").start()

    def stop(self):
        self._stop.set()

    def _keep_alive(self):
        while not self._stop.wait(self.lease / 3):
            proxy = self._proxy()
            if proxy is None:
                return
            try:
                proxy._invoke_async("@keepalive", (), {}, internal=True)
            except Exception as exc:  # closed proxy: the session ends with it
                log.debug("session keepalive stopped: %s", exc)
                return
            del proxy
