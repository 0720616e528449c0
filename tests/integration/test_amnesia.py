"""An acceptor that lost its promises cannot come back as the same member.

Without a --data-dir (or with a wiped one) a restarted acceptor remembers none of the promises
it made; if it answered as the old member, two leaders could each count it in their quorum.
The instance refuses its join with a clear reason, and goes on serving.
"""

import subprocess
import sys


def test_an_acceptor_restarted_without_its_data_is_refused_and_the_instance_serves(
        counter_harness):
    harness = counter_harness
    replicas, acceptors = harness.start_cluster(1, 3)
    harness.run_client("from counterproxy import Counter\nCounter(BOOTSTRAP).increment()\n",
                       bootstrap=replicas)
    lost = acceptors[1]
    lost.kill()
    port = lost.address.rpartition(":")[2]
    again = subprocess.run(
        [sys.executable, "-m", "concoord", "acceptor", "-p", port, "-b", replicas[0].address],
        cwd=harness.workdir, env=harness.env(), capture_output=True, text=True, timeout=60)
    assert again.returncode != 0
    assert "is already a member of this instance" in again.stderr, again.stderr
    assert len(again.stderr.strip().splitlines()) == 1, again.stderr
    result = harness.run_client(
        "from counterproxy import Counter\nc = Counter(BOOTSTRAP)\nc.increment()\n"
        "print(c.getvalue())\n", bootstrap=replicas)
    assert result.stdout.split() == ["2"]
