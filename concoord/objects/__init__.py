"""The object library: coordination objects that work across processes like their ``threading``
and standard-library counterparts work across threads. One class per module; modules starting
with ``_`` hold the helpers they share. Each has a ready client proxy in ``concoord.proxy``:

    concoord replica -o concoord.objects.lock.Lock              # serve one
    >>> from concoord.proxy.lock import Lock
    >>> lock = Lock("127.0.0.1:14000")
    >>> with lock:
    ...     ...

Counter, Lock, RLock, Semaphore, BoundedSemaphore, Condition, Barrier, Event, Queue, Stack, Log,
Membership, Bank, BinaryTree, JobManager, Dictionary.

Replicas create every object with no arguments; ``proxy.__concoordinit__(...)`` re-creates it
with others through the log (``Semaphore(3)``: ``sem.__concoordinit__(3)``).

Ownership is per thread, as in threading: a lock held by one thread of a proxy is not held by
its other threads (every call carries its caller's thread). When a client dies (its session
lease runs out) the instance releases whatever its threads held, through the log; semaphore
permits belong to the session. Errors keep the standard library's types where it has its own
(queue.Empty, queue.Full, threading.BrokenBarrierError: concoord.wire.exception_types).

State is kept as plain values (numbers, strings, lists, dicts, plus deques and queues of parked
callers, which ``_state.PlainState`` converts), so that a snapshot of any object can travel to a
replica that fell behind. Methods that only read are ``@concoord.readonly``: the leader answers
them from its read lease, without a slot in the log; a ``@property`` over a readonly method is
a property of the proxy too (``barrier.parties``, ``barrier.broken``), as in threading.

Timeouts: a blocking call with ``timeout=t`` that is not satisfied in time returns what
threading's returns (False, None, or the unchanged state). The few that must raise or do more
(a Queue's get/put, Barrier.wait, Condition.wait re-taking its lock) define the
``__concoord_timeout__(caller)`` hook, which the ObjectHost calls through the log when a park
timeout passes; the hook may complete the call, make it raise, or leave it parked (see
ObjectHost.cancel and tests/objects/test_timeouts.py).
"""
