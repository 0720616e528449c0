"""A stand-in for systemctl on the test "hosts", which run no systemd (no PID 1 to talk to).

It does what initialize --systemd asks of systemctl with the unit files it was given:
``enable --now`` checks the unit with the real `systemd-analyze verify`, then starts its
ExecStart (WorkingDirectory, Environment, StandardOutput=append:) detached; ``show
--property MainPID``, ``is-active`` and ``disable --now`` (SIGTERM, as KillSignal says) act on
that process; every call is appended to calls.log. Restart=on-failure and User= are not
exercised: nothing here is an init system.

    python fake_systemctl.py STATE_DIR UNIT_DIR ARGS...    (tests wrap it in a shell script)
"""

import os
import shlex
import signal
import subprocess
import sys
import time


def parse_unit(path):
    service = {"Environment": []}
    for line in open(path).read().splitlines():
        key, sep, value = line.partition("=")
        if sep and key == "Environment":
            service["Environment"] += shlex.split(value)
        elif sep:
            service[key] = value
    return service


def start(unit_dir, state, unit):
    path = os.path.join(unit_dir, unit)
    verify = subprocess.run(["systemd-analyze", "verify", path], capture_output=True, text=True)
    if verify.returncode != 0:
        sys.exit(f"fake systemctl: {unit} does not verify: {verify.stderr.strip()}")
    service = parse_unit(path)
    argv = shlex.split(service["ExecStart"].replace("$$", "$").replace("%%", "%"))
    env = dict(os.environ, **dict(item.split("=", 1) for item in service["Environment"]))
    output = service.get("StandardOutput", "")
    out = open(output[len("append:"):], "ab") if output.startswith("append:") else None
    proc = subprocess.Popen(argv, cwd=service.get("WorkingDirectory", "/"), env=env,
                            stdout=out or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    with open(os.path.join(state, unit + ".pid"), "w") as f:
        f.write(str(proc.pid))


def pid_of(state, unit):
    try:
        return int(open(os.path.join(state, unit + ".pid")).read())
    except OSError:
        return 0


def alive(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return pid > 0 and "\nState:\tZ" not in f.read()
    except OSError:
        return False


def stop(state, unit):
    pid = pid_of(state, unit)
    if alive(pid):
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not alive(pid):
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
    try:
        os.remove(os.path.join(state, unit + ".pid"))
    except OSError:
        pass


def main(state, unit_dir, *args):
    os.makedirs(state, exist_ok=True)
    with open(os.path.join(state, "calls.log"), "a") as log:
        log.write(" ".join(args) + "\n")
    unit = args[-1]
    if args[0] == "daemon-reload":
        return 0
    if args[:2] == ("enable", "--now"):
        start(unit_dir, state, unit)
    elif args[:2] == ("disable", "--now"):
        stop(state, unit)
    elif args[0] == "show":
        print(pid_of(state, unit))
    elif args[0] == "is-active":
        return 0 if alive(pid_of(state, unit)) else 3
    else:
        sys.exit(f"fake systemctl: unsupported: {' '.join(args)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
