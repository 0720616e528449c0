"""Finding 7 of issue 19: secret files others can read are refused (as ssh refuses private
keys), and a client without the secret hears "authentication failed" however the node's
challenge is split across reads."""

import socket
import threading

import pytest

from concoord.client.proxy import ClientProxy
from concoord.errors import AuthenticationError
from concoord.security.handshake import MAGIC
from concoord.security.secret import SecretError, read_secret_file

SECRET = "correct-horse-battery-staple-0123456789"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_secret_file_others_may_read_is_refused(tmp_path, mode):
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")
    path.chmod(mode)
    with pytest.raises(SecretError, match=f"chmod 600 {path}"):
        read_secret_file(path)
    path.chmod(0o600)
    assert read_secret_file(path) == SECRET.encode()


def test_a_node_refuses_to_start_with_an_open_secret_file(counter_harness, tmp_path):
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")
    path.chmod(0o644)
    h = counter_harness
    started = h.concoord("replica", "-f", h.object_file, "-c", h.class_name,
                         "--secret-file", str(path), timeout=60)
    assert started.returncode != 0 and "readable by its owner only" in started.stderr


def test_a_challenge_split_across_reads_still_means_authentication_failed():
    """A node that sends its challenge a byte at a time (a slow link, a tiny MSS)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def node():
        conn, _ = listener.accept()
        with conn:
            try:
                for byte in MAGIC + bytes(32):
                    conn.sendall(bytes([byte]))
                conn.recv(1024)
            except OSError:      # the client hangs up once it has seen enough
                pass
    threading.Thread(target=node, daemon=True).start()
    address = "127.0.0.1:%d" % listener.getsockname()[1]
    with ClientProxy(address, timeout=10, session_lease=None) as proxy:
        with pytest.raises(AuthenticationError, match="authentication failed"):
            proxy._invoke("getvalue")
    listener.close()


def test_a_node_of_another_handshake_version_is_named_as_such():
    from concoord.security import handshake
    listener = socket.create_server(("127.0.0.1", 0))

    def old_node():
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"CCAUTH1\n" + bytes(32))
            try:
                conn.recv(1024)
            except OSError:
                pass
    threading.Thread(target=old_node, daemon=True).start()
    with socket.create_connection(listener.getsockname(), timeout=10) as sock:
        with pytest.raises(AuthenticationError, match="another version of the handshake"):
            handshake.respond(sock, SECRET.encode(), "client")
    listener.close()
