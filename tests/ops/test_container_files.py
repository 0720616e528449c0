"""The Dockerfile and docker-compose.yml. No Docker daemon runs here, so the compose file's
topology is checked by running its commands as they are, as local processes: each service's
172.28.0.x address becomes 127.28.0.x (all of 127.0.0.0/8 is loopback), /data a directory of
its own, and the services start in depends_on order; then the instance must be whole. What is
not exercised: building the image and Docker's networking, volumes and healthchecks."""

import pathlib
import re
import subprocess
import sys
import urllib.request

import pytest

from concoord.cli import build_parser
from concoord.client.instance_status import instance_status
from concoord.client.status import query_status
from tests.integration.harness import wait_until

yaml = pytest.importorskip("yaml")
REPO = pathlib.Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def roles():
    return [service["command"][0] for service in SERVICES.values()]


def test_three_replicas_three_acceptors_a_nameserver():
    assert sorted(roles()) == sorted(["replica"] * 3 + ["acceptor"] * 3 + ["nameserver",
                                                                            "dashboard"])


def test_every_command_is_a_valid_concoord_command_line():
    parser = build_parser()
    for name, service in SERVICES.items():
        args = parser.parse_args(service["command"])
        address = service["networks"]["concoord"]["ipv4_address"]
        if args.command in ("replica", "acceptor", "nameserver"):
            assert args.addr == address, name          # it advertises its fixed address
        if args.command in ("replica", "acceptor"):
            assert args.data_dir == "/data" and service["volumes"] == [f"{name}:/data"], name
            assert service["environment"]["NODE"] == f"{address}:{args.port}", name
        if args.command in ("replica", "acceptor", "nameserver"):
            assert args.metrics_port == 9100, name


def test_the_dockerfile_runs_concoord_as_its_own_user():
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+", text, re.M)
    assert re.search(r"^USER concoord$", text, re.M)
    assert 'ENTRYPOINT ["concoord"]' in text
    for source in re.findall(r"^COPY (.+) \S+$", text, re.M):
        for path in source.split():
            assert (REPO / path).exists(), path


def _local(value, data_dir):
    text = str(value).replace("172.28.0.", "127.28.0.")
    return str(data_dir) if text == "/data" else text


def _start_order():
    order, pending = [], dict(SERVICES)
    while pending:
        ready = [n for n, s in pending.items() if set(s.get("depends_on", {})) <= set(order)]
        assert ready, f"depends_on has a cycle among {sorted(pending)}"
        order += sorted(ready)
        for name in ready:
            del pending[name]
    return order


@pytest.fixture
def compose_as_processes(tmp_path):
    procs = []
    yield procs
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_the_compose_topology_forms_one_instance(tmp_path, compose_as_processes):
    for name in _start_order():
        service = SERVICES[name]
        data = tmp_path / name
        data.mkdir()
        # 0.0.0.0 (each container has its own ports) becomes the service's own address.
        address = _local(service["networks"]["concoord"]["ipv4_address"], data)
        command = [address if arg == "0.0.0.0" else _local(arg, data)
                   for arg in service["command"]]
        log = open(tmp_path / f"{name}.log", "wb")
        compose_as_processes.append(subprocess.Popen(
            [sys.executable, "-m", "concoord", *command], cwd=REPO / "docker",
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, stdout=log,
            stderr=subprocess.STDOUT))
        if name.startswith(("replica", "acceptor")):
            node = _local(service["environment"]["NODE"], data)
            wait_until(lambda: _answers(node), 30, message=f"{name} to answer at {node}")

    def whole():
        view = instance_status(["127.28.0.11:14000"])
        return view if (len(view["replicas"]) == 3 and len(view["acceptors"]) == 3
                        and view["nameservers"] == ["127.28.0.31:5353"]
                        and all(n["alive"] is not False for n in view["nodes"])) else None
    try:
        wait_until(whole, 60, interval=0.5, message="the instance to be whole")
    except AssertionError as exc:
        logs = "\n".join(p.read_text() for p in sorted(tmp_path.glob("*.log")))
        raise AssertionError(f"{exc}\n{logs}") from None
    with urllib.request.urlopen("http://127.28.0.40:8080/api/status", timeout=10) as reply:
        assert b"127.28.0.11:14000" in reply.read()


def _answers(node):
    return query_status(node, timeout=1.0)
