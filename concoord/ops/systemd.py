"""systemd units for ConCoord nodes: `concoord systemd-unit` prints one, and `concoord
initialize --systemd` installs one per node (concoord/deploy/nodes.py runs the scripts below).

A unit runs one node as its own system user (never root), restarts it when it fails (not when
it was stopped), keeps its state in its data directory and stops it with SIGTERM, on which a
node leaves cleanly.
"""

import re
import shlex

ROLES = ("replica", "acceptor", "nameserver")
DEFAULT_USER = "concoord"
UNIT_DIR = "/etc/systemd/system"
STATE_ROOT = "/var/lib/"


def unit_name(domain, role, address, port):
    """concoord-DOMAIN-ROLE-ADDRESS-PORT.service (systemd allows letters, digits and :-_.\\
    only). The address is in it: two hosts of one instance may be one machine with several
    addresses, where nodes of one role on the same port would otherwise share one unit."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"concoord-{domain}-{role}-{address}-{port}")
    return f"{safe}.service"


def unit_text(role, exec_argv, user=DEFAULT_USER, data_dir=None, working_dir=None,
              log_path=None, description=None):
    """The unit file of one node. ``exec_argv`` is its whole command line, the program an
    absolute path; ``data_dir`` must also be on that command line (--data-dir) for replicas
    and acceptors. ``log_path``: append stdout and stderr there (else the journal)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not exec_argv or not exec_argv[0].startswith("/"):
        raise ValueError("the node's program must be an absolute path (systemd requires it)")
    service = [
        "Type=simple",
        f"User={user}",
        f"Group={user}",
        f"ExecStart={' '.join(_quote(arg) for arg in exec_argv)}",
        # SIGTERM: the node leaves cleanly; it is not restarted after a clean stop.
        "Restart=on-failure",
        "RestartSec=2",
        "KillSignal=SIGTERM",
        "TimeoutStopSec=20",
        # Replicas must hash strings alike (else they re-exec themselves to get this).
        "Environment=PYTHONHASHSEED=0 PYTHONUNBUFFERED=1",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectSystem=strict",
    ]
    if working_dir:
        service.append(f"WorkingDirectory={working_dir}")
    if data_dir:
        if data_dir.startswith(STATE_ROOT):     # systemd creates it, owned by the user
            service.append(f"StateDirectory={data_dir[len(STATE_ROOT):]}")
        else:
            service.append(f"ReadWritePaths={data_dir}")
    if log_path:
        service += [f"StandardOutput=append:{log_path}", "StandardError=inherit"]
    if role == "nameserver":      # DNS on port 53 without root
        service.append("AmbientCapabilities=CAP_NET_BIND_SERVICE")
    return "\n".join([
        "[Unit]",
        f"Description={description or 'ConCoord ' + role}",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]", *service,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])


def _quote(arg):
    """One ExecStart argument: systemd expands % specifiers and $ variables, and splits on
    spaces unless the word is double-quoted."""
    arg = arg.replace("%", "%%").replace("$", "$$")
    if re.search(r"[\s\"'\\;]", arg) or not arg:
        arg = '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return arg


def install_script(unit, user, owned_dirs=(), owned_files=(), systemctl="systemctl"):
    """Shell commands (run as root on the host, after the unit file was uploaded) that create
    ``user`` if missing, make ``owned_dirs`` and give them and ``owned_files`` (the secret) to
    it, enable and start ``unit`` and print the node's PID."""
    q = shlex.quote
    steps = [f"id -u {q(user)} >/dev/null 2>&1 || useradd --system --no-create-home "
             f"--shell /usr/sbin/nologin {q(user)}"]
    steps += [f"mkdir -p {q(d)} && chown -R {q(user)}: {q(d)}" for d in owned_dirs]
    steps += [f"chown {q(user)}: {q(f)}" for f in owned_files]
    steps += [f"{systemctl} daemon-reload", f"{systemctl} enable --now {q(unit)} >/dev/null",
              f"{systemctl} show --property MainPID --value {q(unit)}"]
    return " && ".join(steps)


def remove_script(unit, unit_path, systemctl="systemctl"):
    """Shell commands that stop and disable ``unit`` and remove its file (never fails)."""
    q = shlex.quote
    return (f"{systemctl} disable --now {q(unit)} >/dev/null 2>&1; rm -f {q(unit_path)}; "
            f"{systemctl} daemon-reload >/dev/null 2>&1; true")


def is_active_script(unit, systemctl="systemctl"):
    return f"{systemctl} is-active --quiet {shlex.quote(unit)}"
