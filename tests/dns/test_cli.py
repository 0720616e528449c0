"""`concoord nameserver` refuses bad invocations with one line that says what to fix."""

import time

import pytest

from tests.dns.cluster import dns_port


@pytest.mark.parametrize("args, message", [
    (["-f", "missing.py"], "object file 'missing.py' not found"),
    (["-a", "0.0.0.0"], "cannot be advertised in NS records"),
    (["--route53"], "--route53 needs --zone-id"),
    (["--zone-id", "Z1"], "--zone-id is only used with --route53"),
])
def test_bad_options_are_one_line_errors(cluster, args, message):
    result = cluster.concoord("nameserver", "-n", "counterdomain", "-b", "127.0.0.1:1", *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("concoord nameserver: error: "), lines
    assert message in lines[0]


def test_bad_domain_and_dead_bootstrap(cluster):
    result = cluster.concoord("nameserver", "-n", "bad..domain", "-b", "127.0.0.1:1")
    assert result.returncode == 2 and "not a valid domain name" in result.stderr
    started = time.monotonic()
    result = cluster.concoord("nameserver", "-n", "counterdomain", "-b", "127.0.0.1:1",
                              "--dns-port", dns_port())
    assert result.returncode == 1      # a network failure, not a usage error
    assert "no replica answered status through 127.0.0.1:1" in result.stderr, result.stderr
    assert time.monotonic() - started < 15
