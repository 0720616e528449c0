"""An acceptor that lost its promises cannot come back as the same member.

Without a --data-dir (or with a wiped one) a restarted acceptor remembers none of the promises
it made; if it answered as the old member, two leaders could each count it in their quorum.
The instance refuses its join with a clear reason, and goes on serving.
"""

import socket
import subprocess
import sys

from concoord.wire.codec import FrameReader, encode_frame
from concoord.wire.messages import Prepare
from concoord.wire.types import Ballot

from tests.integration.harness import HOST, free_port, wait_until


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


def test_an_acceptor_answers_nothing_before_the_instance_admits_it(harness):
    """Bug: a new acceptor served Prepare and Accept from the moment it listened, before it
    knew whether it was already a member. One restarted without its data on a member's
    address answered as that member, with none of its promises, until the instance refused
    its join (for as long as the bootstrap replica took to answer): a leader campaigning
    then could count it in a quorum. Here the bootstrap address accepts and never answers."""
    silent = socket.create_server((HOST, 0))
    leader = socket.create_server((HOST, 0))        # where a Promise would be sent
    leader_id = "%s:%d" % leader.getsockname()
    port = free_port()
    acceptor = subprocess.Popen(
        [sys.executable, "-m", "concoord", "acceptor", "-p", str(port), "-b",
         "%s:%d" % silent.getsockname()], cwd=harness.workdir, env=harness.env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        probe = wait_until(lambda: socket.create_connection((HOST, port), timeout=1), 30,
                           message="the acceptor never listened")
        with probe:
            probe.sendall(encode_frame(Prepare(leader_id, Ballot(1, leader_id, 0), 1)))
            assert _frames_received(leader, 3.0) == [], \
                "an acceptor not yet admitted answered a Prepare"
    finally:
        acceptor.kill()
        acceptor.wait()
        silent.close()
        leader.close()


def _frames_received(listener, seconds):
    """The messages nodes sent to ``listener`` within ``seconds``."""
    listener.settimeout(seconds)
    try:
        conn, _ = listener.accept()
    except socket.timeout:
        return []
    reader, messages = FrameReader(), []
    with conn:
        conn.settimeout(seconds)
        try:
            while not messages:
                data = conn.recv(1 << 16)
                if not data:
                    break
                messages += reader.feed(data)
        except socket.timeout:
            pass
    return messages
