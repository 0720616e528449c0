"""The asynchronous proxy (call_async: many calls in flight on one connection) and the batching
context (with proxy.batch(): calls travel together and the block waits for them all)."""

import pytest

pytestmark = pytest.mark.timeout(60)

CLIENT = """
from counterproxy import Counter
c = Counter(BOOTSTRAP)
futures = [c.call_async("increment") for _ in range(500)]
assert all(f.result(30) is None for f in futures)
try:
    with c.batch() as calls:
        for _ in range(300):
            c.increment()
        c.call_async("increment", 1)          # wrong arity: its TypeError ends the batch
        calls.append(c.call_async("increment", 1))
except TypeError:
    print("raised", len(calls))
print(c.getvalue())
"""


def test_async_calls_and_a_batch_each_run_exactly_once(counter_harness):
    replicas, _ = counter_harness.start_cluster(1, 1)
    result = counter_harness.run_client(CLIENT, bootstrap=replicas)
    assert result.stdout.split() == ["raised", "301", "800"], result.stderr
