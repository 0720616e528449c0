"""Client ids a client must prove: the public id is a hash of a key only the client knows.

The id is what the instance keeps and shows (sessions, a Lock's holder, `concoord status`);
anyone may learn it. A request carries the key as its ``src``; the node checks that the id is
the key's hash, then forgets the key (it never enters the log). So knowing an id grants nothing:
a client cannot release another's lock or pre-empt its command numbers. (Without TLS, someone
who can read the traffic sees keys; the shared-secret handshake authenticates, it does not
encrypt.)
"""

import hashlib
import secrets

LABEL = b"concoord client id 1\n"
ID_LENGTH = 32      # hex characters: 128 bits, no collision in any instance's lifetime


def new_client_key():
    return secrets.token_hex(32)


def client_id_of(key):
    """The public id of the client that holds ``key``."""
    return hashlib.sha256(LABEL + key.encode()).hexdigest()[:ID_LENGTH]
