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

Ownership is per client session, i.e. per proxy object: a lock, a permit or a job belongs to the
proxy that took it, and when that client dies (its session lease runs out) the instance releases
what it held, through the log. Errors are builtin exception types wherever the stdlib uses a
custom one (queue.Empty is IndexError here, queue.Full OverflowError, BrokenBarrierError a
RuntimeError), because only builtin types re-raise as themselves on the client; each module says
which it uses.

State is kept as plain values (numbers, strings, lists, dicts, plus deques and queues of parked
callers, which ``_state.PlainState`` converts), so that a snapshot of any object can travel to a
replica that fell behind. Methods that only read are ``@concoord.readonly``: the leader answers
them from its read lease, without a slot in the log. Proxies cannot have properties, so what
threading exposes as attributes is a method here (``barrier.parties()``, ``barrier.broken()``).

Timeouts: a blocking call with ``timeout=t`` that is not satisfied in time returns what
threading's returns (False, None, or the unchanged state). The few that must raise or do more
(a Queue's get/put, Barrier.wait, Condition.wait re-taking its lock) define the
``__concoord_timeout__(caller)`` hook for the ObjectHost to call when a park timeout passes. An
ObjectHost that does not call it completes those calls with their park ``on_timeout`` value
instead (the error as a returned value; False without the lock); tests/objects/test_timeouts.py
shows the host change and checks which behaviour the instance has.
"""
