"""A job queue shared by processes: submit jobs, workers take and complete them.

``submit(job)`` returns the job's id (1, 2, 3...). ``take()`` hands the oldest queued job to the
calling session as ``(id, job)``, waiting for one if none is queued; ``take(block=False)`` and a
``take(timeout=t)`` that times out return None. ``complete(id)`` finishes a job the caller took
(KeyError for an unknown or finished id, RuntimeError for a job the caller did not take).

A worker that dies loses its jobs when its session lease expires: they go back to the queue, in
id order, so no job is lost. ``release(id)`` hands a job back on purpose.
"""

from collections import deque

from concoord import readonly
from concoord.blocking import current_caller, park, wake
from concoord.objects._state import PlainState
from concoord.objects._waiters import WaitQueue


class JobManager(PlainState):
    def __init__(self):
        self.jobs = {}            # id -> job, for jobs not completed yet
        self.queued = deque()     # ids waiting to be taken, oldest first
        self.running = {}         # id -> client id of the session that took it
        self.next_id = 1
        self.takers = WaitQueue()

    def submit(self, job):
        job_id, self.next_id = self.next_id, self.next_id + 1
        self.jobs[job_id] = job
        self._offer(job_id)
        return job_id

    def take(self, block=True, timeout=None):
        caller = current_caller()
        if self.queued:
            return self._assign(self.queued.popleft(), caller.client_id)
        if not block or (timeout is not None and timeout <= 0):
            return None
        self.takers.add(caller)
        park(timeout=timeout, on_timeout=None)

    def complete(self, job_id):
        self._check_taken(job_id)
        del self.running[job_id]
        del self.jobs[job_id]

    def release(self, job_id):
        """Give a taken job back to the queue (its place is by id: ahead of newer jobs)."""
        self._check_taken(job_id)
        del self.running[job_id]
        self._requeue([job_id])

    @readonly
    def pending(self):
        """Ids of the jobs not completed yet (queued or taken), in id order."""
        return sorted(self.jobs)

    @readonly
    def status(self, job_id):
        """'queued', 'running' or 'done'; KeyError for an id never handed out."""
        if not isinstance(job_id, int) or not 0 < job_id < self.next_id:
            raise KeyError(job_id)
        if job_id in self.running:
            return "running"
        return "queued" if job_id in self.jobs else "done"

    @readonly
    def job(self, job_id):
        if job_id not in self.jobs:
            raise KeyError(job_id)
        return self.jobs[job_id]

    def __concoord_expired__(self, client_id):
        self.takers.drop_client(client_id)
        lost = [job_id for job_id, owner in self.running.items() if owner == client_id]
        for job_id in lost:
            del self.running[job_id]
        self._requeue(lost)

    def _check_taken(self, job_id):
        if job_id not in self.jobs:
            raise KeyError(job_id)
        if self.running.get(job_id) != current_caller().client_id:
            raise RuntimeError(f"job {job_id} was not taken by this client")

    def _assign(self, job_id, client_id):
        self.running[job_id] = client_id
        return job_id, self.jobs[job_id]

    def _offer(self, job_id):
        """A job to hand out: to the oldest waiting worker, else to the queue."""
        entry = self.takers.pop()
        if entry is None:
            self.queued.append(job_id)
        else:
            wake(entry[0], self._assign(job_id, entry[0].client_id))

    def _requeue(self, job_ids):
        for job_id in sorted(job_ids):
            self._offer(job_id)
        self.queued = deque(sorted(self.queued))

    def __str__(self):
        return (f"JobManager(queued={len(self.queued)}, running={len(self.running)}, "
                f"next_id={self.next_id}, waiting={self.takers.queued()})")
