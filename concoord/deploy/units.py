"""`concoord initialize --systemd` / `addnode --systemd`: each node as a systemd unit on its
host instead of a detached process. The unit (concoord/ops/systemd.py) runs the node as its
own system user, restarts it on failure and starts it at boot; the node's log goes to the same
file as without systemd, so that a failed start is reported the same way. Needs root on the
hosts (to write the unit, create the user and run systemctl)."""

import dataclasses
import shlex

from concoord.deploy.errors import host_error
from concoord.ops.systemd import (
    DEFAULT_USER, UNIT_DIR, install_script, is_active_script, remove_script, unit_name,
    unit_text)


@dataclasses.dataclass(frozen=True)
class SystemdInstall:
    """How nodes are installed as units: as which user, where unit files go, which systemctl."""

    user: str = DEFAULT_USER
    unit_dir: str = UNIT_DIR
    systemctl: str = "systemctl"


def start_unit(prepared, instance, role, port, argv, log_path, data_dir):
    """Install and start the unit of one node; (unit name, its main PID)."""
    install = instance.systemd
    argv = [_absolute(prepared, argv[0])] + list(argv[1:])
    unit = unit_name(instance.domain, role, prepared.address, port)
    text = unit_text(role, argv, install.user, data_dir, prepared.work_dir, log_path,
                     description=f"ConCoord {role} {prepared.address}:{port} of "
                     f"{instance.domain}")
    prepared.session.upload(text.encode(), f"{install.unit_dir}/{unit}", mode=0o644)
    owned_files = [f"{prepared.work_dir}/secret"] if instance.secret else []
    script = install_script(unit, install.user, [data_dir] if data_dir else [], owned_files,
                            install.systemctl)
    status, out, err = prepared.session.run(script)
    pid = out.strip().splitlines()[-1] if out.strip() else ""
    if status != 0 or not pid.isdigit():
        prepared.session.run(remove_script(unit, f"{install.unit_dir}/{unit}",
                                           install.systemctl))
        raise host_error(prepared, f"cannot install the {role} as systemd unit {unit}: "
                         f"{err.strip() or out.strip() or f'exit status {status}'}")
    return unit, int(pid)


def stop_unit_script(node, install):
    return remove_script(node.unit, f"{install.unit_dir}/{node.unit}", install.systemctl)


def unit_active_script(node, install):
    return is_active_script(node.unit, install.systemctl)


def _absolute(prepared, program):
    """systemd wants the program as an absolute path: `python3` becomes /usr/bin/python3."""
    if program.startswith("/"):
        return program
    status, out, err = prepared.session.run(f"command -v {shlex.quote(program)}")
    path = out.strip()
    if status != 0 or not path.startswith("/"):
        raise host_error(prepared, f"cannot find '{program}' on the host for the unit's "
                         f"ExecStart: {err.strip() or 'not found'}")
    return path
