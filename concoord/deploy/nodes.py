"""Starting one node on a prepared host so that it outlives the SSH session, and stopping it.

The node runs under ``nohup setsid`` (its own session: no SIGHUP when SSH closes) with every
standard stream redirected. The command is ``cd DIR; nohup setsid CMD >LOG 2>&1 </dev/null &``:
with ``&&`` instead of ``;`` the whole list would go to the background as a subshell that keeps
the channel's stdout open (sshd waits for it: the command never returns) and ``$!`` would be
that subshell rather than the node.
"""

import dataclasses
import random
import re
import shlex

from concoord.deploy.errors import DeployError, host_error
from concoord.runtime.ports import PORT_RANGE, format_address

ROLES = ("replica", "acceptor", "nameserver")
SECRET_FILE = "secret"      # in each host's work directory, readable by its owner only
# A node is orphaned once its shell exits; until an init process reaps it, a dead node is a
# zombie that `kill -0` still finds, so "alive" also means "not in state Z" where /proc exists.
ALIVE = "{{ kill -0 {pid} 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' /proc/{pid}/status; }}"
STOP_SCRIPT = ("if kill {pid} 2>/dev/null; then i=0; while [ $i -lt 50 ] && " + ALIVE
               + "; do sleep 0.1; i=$((i+1)); done; " + ALIVE + " && kill -9 {pid}; fi; true")


@dataclasses.dataclass(frozen=True)
class Instance:
    """What every node of one deployment shares."""

    domain: str
    object_name: str        # the object file's name in each host's work directory
    class_name: str
    dns_port: int = 53
    logger: str = None      # host:port of a `concoord logdaemon`
    secret: bool = False    # nodes prove the instance's secret, uploaded as SECRET_FILE
    systemd: object = None  # a deploy.units.SystemdInstall: nodes run as systemd units

    def __post_init__(self):
        # The domain names the remote work directory too: no "/" or ".." may slip in.
        if not re.fullmatch(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?", self.domain or ""):
            raise DeployError(f"'{self.domain}' is not a domain name (letters, digits, '-', "
                              "'_' and dots between them)")


@dataclasses.dataclass
class RemoteNode:
    role: str
    address: str            # "ip:port", the node's id in the instance's view
    pid: int
    log_path: str
    host: object            # PreparedHost
    data_dir: str = None    # its --data-dir (nameservers have none)
    unit: str = None        # its systemd unit, when installed as one
    systemd: object = None  # ... and how (deploy.units.SystemdInstall)

    def __str__(self):
        return f"{self.role} {self.address}"


def pick_port():
    """A port from ConCoord's usual range; a taken one fails the start and is retried."""
    return random.randint(*PORT_RANGE)


def data_dir_of(prepared, role, port):
    """Where a replica or acceptor keeps its state (None for a nameserver): on disk, so that a
    node restarted by hand resumes as the same member."""
    if role == "nameserver":
        return None
    return f"{prepared.work_dir}/data/{role}-{prepared.address}-{port}"


def node_argv(prepared, instance, role, port, boot):
    """The command line of a `concoord replica|acceptor|nameserver` on ``prepared``.

    A nameserver's identity is its DNS address, so ``port`` is ignored for it."""
    argv = list(prepared.concoord) + [role, "-a", prepared.address]
    if role == "nameserver":
        argv += ["-n", instance.domain, "--dns-port", str(instance.dns_port)]
    else:
        argv += ["-p", str(port), "--data-dir", data_dir_of(prepared, role, port)]
    if role != "acceptor" and instance.object_name:
        argv += ["-f", instance.object_name, "-c", instance.class_name]
    if boot:
        argv += ["-b", ",".join(boot)]
    if instance.logger:
        argv += ["-l", instance.logger]
    if instance.secret:
        argv += ["--secret-file", SECRET_FILE]      # nodes start in the work directory
    return argv


def start_node(prepared, instance, role, port, boot):
    """Launch the node detached; a RemoteNode (whose join still has to be confirmed)."""
    assert role in ROLES and (boot or role == "replica")
    if role == "nameserver":
        port = instance.dns_port
    argv = node_argv(prepared, instance, role, port, boot)
    log_path = f"{prepared.work_dir}/{role}-{prepared.address}-{port}.log"
    address = format_address((prepared.address, port))
    data_dir = data_dir_of(prepared, role, port)
    if instance.systemd is not None:
        from concoord.deploy.units import start_unit
        unit, pid = start_unit(prepared, instance, role, port, argv, log_path, data_dir)
        return RemoteNode(role, address, pid, log_path, prepared, data_dir, unit,
                          instance.systemd)
    command = " ".join(shlex.quote(arg) for arg in argv)
    script = (f"cd {shlex.quote(prepared.work_dir)}; nohup setsid {command} "
              f">{shlex.quote(log_path)} 2>&1 </dev/null & echo $!")
    status, out, err = prepared.session.run(script)
    if status != 0 or not out.strip().isdigit():
        raise host_error(prepared, f"cannot start the {role}: {err.strip() or out.strip()}")
    return RemoteNode(role, address, int(out.strip()), log_path, prepared, data_dir)


def is_running(node):
    if node.unit:
        from concoord.deploy.units import unit_active_script
        script = unit_active_script(node, node.systemd)
    else:
        script = ALIVE.format(pid=node.pid)
    status, _, _ = node.host.session.run(script)
    return status == 0


def stop_node(node, tail_lines=5, forget_data=False):
    """SIGTERM, then SIGKILL if it is still there after 5 s; the last lines of its log (why it
    failed), as one string. One SSH command: each costs the remote login shell's start-up.

    ``forget_data`` also removes its data directory: a node rolled back belongs to no instance,
    and a node started later on the same port must not resume as a member of that one."""
    log = shlex.quote(node.log_path)
    if node.unit:           # stop and uninstall: a unit would start it again at boot
        from concoord.deploy.units import stop_unit_script
        stop = stop_unit_script(node, node.systemd)
    else:
        stop = STOP_SCRIPT.format(pid=node.pid)
    script = f"{stop}; tail -n {tail_lines} {log} 2>/dev/null"
    if forget_data and node.data_dir:
        script += f"; rm -rf {shlex.quote(node.data_dir)}"
    _, out, _ = node.host.session.run(script)
    return " | ".join(line.strip() for line in out.splitlines() if line.strip())
