"""``concoord addnode``: one more acceptor, replica or nameserver for a running instance."""

import os

from concoord.deploy.deployment import MAX_ATTEMPTS, Deployment, say
from concoord.deploy.errors import DeployError
from concoord.deploy.hosts import parse_host
from concoord.deploy.join import current_view
from concoord.deploy.nodes import Instance
from concoord.deploy.remote import check_dns_port

NODE_TYPES = {1: "acceptor", 2: "replica", 3: "nameserver"}


def resolve_boot(text):
    """``ip:port[,ip:port]`` as a list; anything else is a domain looked up through DNS SRV
    (asking $CONCOORD_NAMESERVER if set, as nodes do, else the system resolver)."""
    from concoord.wire.addresses import split_address
    entries = [e.strip() for e in text.split(",") if e.strip()]
    try:
        for entry in entries:
            split_address(entry)
        if entries:
            return entries
    except ValueError:
        pass
    try:
        from concoord.dns.resolve import resolve_srv
        return resolve_srv(text.strip(), os.environ.get("CONCOORD_NAMESERVER") or None)
    except (ImportError, OSError) as exc:
        raise DeployError(f"bootstrap '{text}' is not ip:port[,ip:port] and could not be "
                          f"resolved as a domain: {exc}") from None


def fixed_object(object_file, class_name):
    """The server-side copy of the object, as bytes, without writing files beside it."""
    from concoord.codegen.concoordify import read_source
    from concoord.codegen.fixer import generate_fixed
    source, encoding = read_source(object_file)
    return generate_fixed(source, class_name, object_file).encode(encoding)


def addnode(settings, node_type, domain, object_file, class_name, boot_text, host_text,
            out=say, secret=None):
    """Start one node of ``node_type`` (1, 2 or 3) on ``host_text``; the node's address.
    ``secret``: the instance's shared secret (bytes), uploaded for the new node."""
    role = NODE_TYPES[node_type]
    if role == "replica" and not (object_file and class_name):
        raise DeployError("a replica needs the object: give -f FILE -c CLASS")
    boot = resolve_boot(boot_text)
    view = current_view(boot)  # new nodes join through a replica
    if view is None:
        raise DeployError(f"no replica of the instance answers at {','.join(boot)}")
    replicas = list(view.replicas)
    object_data = fixed_object(object_file, class_name) if object_file else None
    object_name = os.path.basename(object_file) if object_file else None
    instance = Instance(domain, object_name, class_name, settings.dns_port, settings.logger,
                        secret=secret is not None,
                        systemd=settings.systemd_install())
    host = parse_host(host_text).with_defaults(settings.ssh_user, settings.ssh_port)
    with Deployment(settings, instance, object_data, out, secret) as deployment:
        prepared = deployment.prepare(host)
        if role == "nameserver":
            check_dns_port(prepared, settings.remote_python, settings.dns_port)
        # A nameserver's port is fixed (--dns-port): trying it again on the same host is futile.
        attempts = 1 if role == "nameserver" else MAX_ATTEMPTS
        node = deployment.launch(role, [prepared] * attempts, replicas, f"new {role}")
    if role == "replica":
        replicas.append(node.address)
    out(f"bootstrap: {','.join(replicas)}")
    return node.address
