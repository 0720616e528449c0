#!/usr/bin/env python3
"""`make demo`: a local ConCoord instance of the README's Counter, used by a client.

Starts 3 replicas and 3 acceptors on 127.0.0.1 as separate `concoord` processes, generates the
client proxy with `concoord object`, increments the counter from a client, kills the leader,
keeps incrementing through the failover, prints what happened and stops every node.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTER = os.path.join(HERE, "..", "concoord", "objects", "counter.py")


def concoord(*args, workdir, log=None):
    command = [sys.executable, "-m", "concoord", *args]
    out = open(os.path.join(workdir, log), "w") if log else subprocess.PIPE
    return subprocess.Popen(command, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, text=True)


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"demo: timed out waiting for {what}")


def start_nodes(workdir, nodes):
    from concoord.client.status import query_status
    first = "127.0.0.1:14600"
    nodes[first] = concoord("replica", "-f", "counter.py", "-c", "Counter", "-p", "14600",
                            workdir=workdir, log="replica-14600.log")
    wait_for(lambda: _answers(query_status, first), 10, "the bootstrap replica")
    for port in (14601, 14602, 14603):
        nodes[f"127.0.0.1:{port}"] = concoord("acceptor", "-b", first, "-p", str(port),
                                              workdir=workdir, log=f"acceptor-{port}.log")
    for port in (14604, 14605):
        nodes[f"127.0.0.1:{port}"] = concoord("replica", "-f", "counter.py", "-c", "Counter",
                                              "-b", first, "-p", str(port), workdir=workdir,
                                              log=f"replica-{port}.log")
    wait_for(lambda: _complete(query_status, first), 30, "3 replicas and 3 acceptors to join")


def _answers(query_status, address):
    try:
        query_status(address, timeout=0.5)
        return True
    except Exception:
        return False


def _complete(query_status, address):
    try:
        status = query_status(address, timeout=0.5)
    except Exception:
        return False
    return len(status["replicas"]) == 3 and len(status["acceptors"]) == 3


def run_client(workdir, replicas):
    sys.path.insert(0, workdir)
    from counterproxy import Counter
    from concoord.client.status import query_status
    counter = Counter(",".join(replicas))
    for _ in range(100):
        counter.increment()
    print(f"client: 100 increments -> getvalue() = {counter.getvalue()}")
    leader = query_status(replicas[0])["leader"]
    print(f"killing the leader {leader} with SIGKILL")
    return counter, leader


def main():
    workdir = tempfile.mkdtemp(prefix="concoord-demo-")
    shutil.copy(COUNTER, os.path.join(workdir, "counter.py"))
    subprocess.run([sys.executable, "-m", "concoord", "object", "-f", "counter.py", "-c",
                    "Counter"], cwd=workdir, check=True)
    os.replace(os.path.join(workdir, "counter.pyproxy"), os.path.join(workdir, "counterproxy.py"))
    nodes = {}
    replicas = ["127.0.0.1:14600", "127.0.0.1:14604", "127.0.0.1:14605"]
    try:
        start_nodes(workdir, nodes)
        print(f"started 3 replicas and 3 acceptors; logs in {workdir}")
        counter, leader = run_client(workdir, replicas)
        nodes[leader].send_signal(signal.SIGKILL)
        started = time.time()
        counter.increment()
        print(f"next increment acknowledged {time.time() - started:.2f} s after the kill")
        for _ in range(99):
            counter.increment()
        value = counter.getvalue()
        print(f"client: 100 more increments -> getvalue() = {value}")
        if value != 200:
            raise SystemExit(f"demo: expected 200, got {value}")
        print("demo OK")
    finally:
        for proc in nodes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in nodes.values():
            proc.wait(10)
        print("stopped every node")


if __name__ == "__main__":
    main()
