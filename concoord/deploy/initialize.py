"""``concoord initialize``: a whole new instance on the hosts of a host file.

Order matters: the bootstrap replica first (it is the instance), then the acceptors (without
acceptors nothing, not even another node's join, can be decided), then the other replicas, then
the nameservers. Each node must show up in the instance's view before the next one starts.
"""

import concurrent.futures
import os

from concoord.deploy.deployment import MAX_ATTEMPTS, Deployment, say
from concoord.deploy.errors import DeployError
from concoord.deploy.hosts import read_host_file
from concoord.deploy.nodes import Instance
from concoord.deploy.remote import check_dns_port


def plan_hosts(n_replicas, n_acceptors, n_nameservers, n_hosts):
    """Host index of every node, spread round-robin: {role: [host index per node]}."""
    counts = (("replica", n_replicas), ("acceptor", n_acceptors), ("nameserver", n_nameservers))
    plan, position = {}, 0
    for role, count in counts:
        plan[role] = [(position + i) % n_hosts for i in range(count)]
        position += count
    return plan


def candidates(prepared, index, role):
    """The hosts to try for a node placed on ``index``: there twice (on another port), then the
    next host. A nameserver's port is fixed (--dns-port), so it moves on at once."""
    again = [index] if role != "nameserver" else []
    order = [index] + again + [(index + step) % len(prepared) for step in range(1, MAX_ATTEMPTS)]
    return [prepared[i] for i in order[:MAX_ATTEMPTS]]


def prepare_all(deployment, hosts):
    """Check and prepare every distinct host at once (SSH round trips add up); the prepared
    host for each entry of ``hosts``. All failures are reported together, in host order."""
    distinct = list(dict.fromkeys(hosts))
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(16, len(distinct))) as pool:
        futures = [pool.submit(deployment.prepare, host) for host in distinct]
    errors = [f.exception() for f in futures if f.exception() is not None]
    for error in errors:
        if not isinstance(error, DeployError):
            raise error
    if errors:
        raise DeployError("; ".join(str(e) for e in errors))
    by_host = {host: future.result() for host, future in zip(distinct, futures)}
    return [by_host[host] for host in hosts]


def _check_counts(n_replicas, n_acceptors, n_nameservers):
    if n_replicas < 1 or n_acceptors < 1:
        raise DeployError("an instance needs at least one replica (-r) and one acceptor (-a)")
    if n_nameservers < 0:
        raise DeployError("the number of nameservers (-n) cannot be negative")


def concoordify_object(object_file, class_name):
    """Write FILE.pyfixed and FILE.pyproxy as `concoord object` does: (fixed bytes, proxy)."""
    from concoord.codegen.concoordify import concoordify
    fixed_path, proxy_path = concoordify(object_file, class_name)
    with open(fixed_path, "rb") as stream:
        return stream.read(), proxy_path


def initialize(settings, domain, object_file, class_name, counts, out=say, secret=None,
               new_secret_file=None):
    """Deploy ``counts`` = (replicas, acceptors, nameservers); the bootstrap list. With
    ``secret`` (bytes) every node gets it and refuses connections that do not prove it.

    ``new_secret_file``: where this run saved a secret it made for the new instance. If the
    run fails, the nodes it started are stopped (Deployment) and, when all of them were,
    nothing uses that secret: the file is removed, so the same command can be run again."""
    deployment = None
    try:
        _check_counts(*counts)
        if not settings.hosts_file:
            raise DeployError("name the hosts to deploy on with --hosts FILE (or [deploy] "
                              "hosts in the --config file)")
        hosts = [h.with_defaults(settings.ssh_user, settings.ssh_port)
                 for h in read_host_file(settings.hosts_file)]
        instance = Instance(domain, os.path.basename(object_file), class_name,
                            settings.dns_port, settings.logger, secret=secret is not None,
                            systemd=settings.systemd_install())
        object_data, proxy_path = concoordify_object(object_file, class_name)
        plan = plan_hosts(*counts, len(hosts))
        deployment = Deployment(settings, instance, object_data, out, secret)
        with deployment:
            prepared = prepare_all(deployment, hosts)  # every host, before any node starts
            for index in sorted(set(plan["nameserver"])):
                check_dns_port(prepared[index], settings.remote_python, settings.dns_port)
            boot = _start_all(deployment, prepared, plan)
    except BaseException:
        if new_secret_file:
            _forget_new_secret(new_secret_file, deployment.left_running if deployment else [],
                               out)
        raise
    out(f"bootstrap: {','.join(boot)}")
    out(f"client proxy: {proxy_path} (rename it to "
        f"{os.path.splitext(os.path.basename(object_file))[0]}proxy.py to import {class_name})")
    return boot


def client_credential_path(domain):
    """Where initialize writes the client credential of DOMAIN's node secret."""
    return f"{domain}.client.secret"


def _forget_new_secret(path, left_running, out):
    """A failed run removes the node secret it made (and the client credential derived from
    it), so that the same command can be run again, unless nodes it could not stop use it."""
    if left_running:
        out(f"kept {path}: nodes this run could not stop use it (pass --secret-file {path} "
            f"to run again with it)")
        return
    domain = os.path.basename(path)[:-len(".secret")] if path.endswith(".secret") else None
    for made in [path] + ([os.path.join(os.path.dirname(path), client_credential_path(domain))]
                          if domain else []):
        try:
            os.remove(made)
        except FileNotFoundError:
            pass
    out(f"removed {path}: no node runs with it (once the problem is fixed, run the same "
        f"command again)")


def _start_all(deployment, prepared, plan):
    """Start every planned node in the order the module docstring gives; the replicas."""
    def launch(role, i, boot):
        label = f"{role} {i + 1}/{len(plan[role])}"
        if role == "replica" and i == 0:
            label += " (bootstrap)"
        return deployment.launch(role, candidates(prepared, plan[role][i], role), boot, label)

    boot = [launch("replica", 0, None).address]
    for i in range(len(plan["acceptor"])):
        launch("acceptor", i, boot)
    for i in range(1, len(plan["replica"])):
        boot.append(launch("replica", i, boot).address)
    for i in range(len(plan["nameserver"])):
        launch("nameserver", i, boot)
    return boot
