"""A tiny MongoDB wire-protocol client (OP_MSG) with just enough BSON for the benchmark
scripts: run a command against mongo-embedded (or mongod) and read the reply. Standard library
only, so the scripts need no pip install.
"""

import socket
import struct

OP_MSG = 2013


def _cstring(s):
    return s.encode("utf-8") + b"\x00"


def encode(doc):
    """BSON-encodes a dict of str / int / float / bool / None / dict / list values."""
    body = b""
    for key, value in doc.items():
        name = _cstring(key)
        if isinstance(value, bool):
            body += b"\x08" + name + (b"\x01" if value else b"\x00")
        elif isinstance(value, int):
            if -(2**31) <= value < 2**31:
                body += b"\x10" + name + struct.pack("<i", value)
            else:
                body += b"\x12" + name + struct.pack("<q", value)
        elif isinstance(value, float):
            body += b"\x01" + name + struct.pack("<d", value)
        elif isinstance(value, str):
            raw = value.encode("utf-8") + b"\x00"
            body += b"\x02" + name + struct.pack("<i", len(raw)) + raw
        elif value is None:
            body += b"\x0a" + name
        elif isinstance(value, dict):
            body += b"\x03" + name + encode(value)
        elif isinstance(value, list):
            body += b"\x04" + name + encode({str(i): v for i, v in enumerate(value)})
        else:
            raise TypeError(f"cannot encode {type(value)}")
    return struct.pack("<i", len(body) + 5) + body + b"\x00"


def decode(data, offset=0):
    """Decodes one BSON document at `offset`; returns (dict, end offset)."""
    (length,) = struct.unpack_from("<i", data, offset)
    end = offset + length - 1
    pos = offset + 4
    out = {}
    while pos < end:
        kind = data[pos]
        pos += 1
        nul = data.index(b"\x00", pos)
        key = data[pos:nul].decode("utf-8")
        pos = nul + 1
        if kind == 0x01:
            (value,) = struct.unpack_from("<d", data, pos)
            pos += 8
        elif kind in (0x02, 0x0D, 0x0E):
            (n,) = struct.unpack_from("<i", data, pos)
            value = data[pos + 4 : pos + 4 + n - 1].decode("utf-8", "replace")
            pos += 4 + n
        elif kind in (0x03, 0x04):
            value, pos = decode(data, pos)
            if kind == 0x04:
                value = list(value.values())
        elif kind == 0x05:
            (n,) = struct.unpack_from("<i", data, pos)
            value = bytes(data[pos + 5 : pos + 5 + n])
            pos += 5 + n
        elif kind == 0x07:
            value = data[pos : pos + 12].hex()
            pos += 12
        elif kind == 0x08:
            value = data[pos] != 0
            pos += 1
        elif kind in (0x09, 0x11, 0x12):
            (value,) = struct.unpack_from("<q", data, pos)
            pos += 8
        elif kind in (0x0A, 0x06, 0x7F, 0xFF):
            value = None
        elif kind == 0x0B:
            a = data.index(b"\x00", pos)
            b = data.index(b"\x00", a + 1)
            value = (data[pos:a].decode(), data[a + 1 : b].decode())
            pos = b + 1
        elif kind == 0x10:
            (value,) = struct.unpack_from("<i", data, pos)
            pos += 4
        elif kind == 0x13:
            value = bytes(data[pos : pos + 16])
            pos += 16
        else:
            raise ValueError(f"unsupported BSON type {kind:#x}")
        out[key] = value
    return out, end + 1


class Client:
    """One connection; `command(db, {...})` sends an OP_MSG and returns the reply document."""

    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.request_id = 0

    def close(self):
        self.sock.close()

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed")
            buf += chunk
        return buf

    def command(self, db, cmd):
        self.request_id += 1
        cmd = dict(cmd)
        cmd["$db"] = db
        payload = struct.pack("<I", 0) + b"\x00" + encode(cmd)
        header = struct.pack("<iiii", 16 + len(payload), self.request_id, 0, OP_MSG)
        self.sock.sendall(header + payload)
        (length,) = struct.unpack("<i", self._read(4))
        rest = self._read(length - 4)
        _req, _resp, opcode = struct.unpack_from("<iii", rest, 0)
        if opcode != OP_MSG:
            raise ValueError(f"unexpected opcode {opcode}")
        # flags (4 bytes), then section kind 0 (1 byte) and the body document.
        doc, _ = decode(rest, 12 + 4 + 1)
        return doc

    def command_counts(self):
        """{command name: total} from serverStatus metrics.commands."""
        status = self.command("admin", {"serverStatus": 1})
        commands = status.get("metrics", {}).get("commands", {})
        return {name: int(v.get("total", 0)) for name, v in commands.items()}
