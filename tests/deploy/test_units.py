"""Host lists, the configuration file, node command lines and placement, without SSH."""

import pytest

from concoord.deploy.errors import DeployError
from concoord.deploy.hosts import Host, parse_host, read_host_file
from concoord.deploy.initialize import candidates, plan_hosts
from concoord.deploy.nodes import Instance, node_argv
from concoord.deploy.remote import PreparedHost
from concoord.deploy.settings import read_config, resolve_settings


@pytest.mark.parametrize("text, host", [
    ("example.org", Host("example.org")),
    ("deploy@10.0.0.1", Host("10.0.0.1", "deploy")),
    ("10.0.0.1:2222", Host("10.0.0.1", None, 2222)),
    ("deploy@10.0.0.1:2222", Host("10.0.0.1", "deploy", 2222)),
    ("u@[::1]:22", Host("::1", "u", 22)),
    ("fe80::1", Host("fe80::1")),
])
def test_parse_host(text, host):
    assert parse_host(text) == host
    assert parse_host(str(host)) == host


@pytest.mark.parametrize("text", ["@host", "host:port", "host:70000", "[::1", "a b"])
def test_parse_host_refuses(text):
    with pytest.raises(DeployError, match="host"):
        parse_host(text)


def test_host_file_comments_defaults_and_line_numbers(tmp_path):
    path = tmp_path / "hosts"
    path.write_text("# pretend hosts\n\nalpha   # the first\nroot@beta:2200\n")
    hosts = [h.with_defaults("deploy", 22) for h in read_host_file(path)]
    assert [str(h) for h in hosts] == ["deploy@alpha:22", "root@beta:2200"]
    path.write_text("alpha\nbeta:x\n")
    with pytest.raises(DeployError, match=r"hosts:2: host 'beta:x'"):
        read_host_file(path)


def test_config_file_sets_what_flags_do_not(tmp_path):
    path = tmp_path / "deploy.ini"
    path.write_text("[ssh]\nuser = deploy\nport = 2200   # ours\naccept_new_host_keys = yes\n"
                    "[remote]\npython = /opt/py/bin/python3\n[deploy]\nhosts = ~/hosts\n")
    settings = resolve_settings(str(path), ssh_user="root", ssh_port=None)
    assert settings.ssh_user == "root"                 # the flag wins
    assert settings.ssh_port == 2200 and settings.accept_new_host_keys is True
    assert settings.remote_python == "/opt/py/bin/python3"
    assert settings.hosts_file.endswith("/hosts") and "~" not in settings.hosts_file
    assert settings.dns_port == 53                     # the default


@pytest.mark.parametrize("text, message", [
    ("[ssh]\nusername = x\n", "unknown setting \\[ssh\\] username"),
    ("[ssh]\nport = twenty\n", "port = 'twenty' is not a valid value"),
    ("user = x\n", "config file"),
])
def test_config_file_mistakes(tmp_path, text, message):
    path = tmp_path / "deploy.ini"
    path.write_text(text)
    with pytest.raises(DeployError, match=message):
        read_config(str(path))


def _prepared(address="10.0.0.7"):
    return PreparedHost(None, address, "/srv/cc", ["python3", "-m", "concoord"], "")


def test_node_command_lines():
    instance = Instance("counterdomain", "counter.py", "Counter", dns_port=5353)
    boot = ["10.0.0.1:14000", "10.0.0.2:14001"]
    replica = node_argv(_prepared(), instance, "replica", 14123, None)
    assert replica == ["python3", "-m", "concoord", "replica", "-a", "10.0.0.7", "-p", "14123",
                       "--data-dir", "/srv/cc/data/replica-10.0.0.7-14123",
                       "-f", "counter.py", "-c", "Counter"]
    acceptor = node_argv(_prepared(), instance, "acceptor", 14124, boot)
    assert acceptor[3:] == ["acceptor", "-a", "10.0.0.7", "-p", "14124", "--data-dir",
                            "/srv/cc/data/acceptor-10.0.0.7-14124", "-b", ",".join(boot)]
    # `concoord nameserver -n DOMAIN -f FILE -c CLASS -b BOOT -a ADDR --dns-port PORT`
    nameserver = node_argv(_prepared(), instance, "nameserver", 14125, boot)
    assert nameserver[3:] == ["nameserver", "-a", "10.0.0.7", "-n", "counterdomain",
                              "--dns-port", "5353", "-f", "counter.py", "-c", "Counter",
                              "-b", ",".join(boot)]
    logged = Instance("d", "counter.py", "Counter", logger="10.0.0.9:12000")
    assert node_argv(_prepared(), logged, "acceptor", 1, boot)[-2:] == ["-l", "10.0.0.9:12000"]


def test_placement_round_robin_and_retry_order():
    assert plan_hosts(3, 3, 1, 3) == {"replica": [0, 1, 2], "acceptor": [0, 1, 2],
                                      "nameserver": [0]}
    assert plan_hosts(2, 2, 0, 3) == {"replica": [0, 1], "acceptor": [2, 0], "nameserver": []}
    hosts = ["a", "b", "c"]
    assert candidates(hosts, 2, "replica") == ["c", "c", "a"]
    assert candidates(hosts, 2, "nameserver") == ["c", "a", "b"]
    assert candidates(["a"], 0, "acceptor") == ["a", "a", "a"]
