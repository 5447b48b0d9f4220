#!/usr/bin/env python3
"""Records the raw RESP replies in this folder from a real Redis Cluster (redis-server 7).

Starts 3 masters + 3 replicas on free loopback ports in a temporary folder, asks them, writes
each reply byte for byte (*.resp) with the CLUSTER NODES text of the same moment (*.txt, which
the tests parse independently to know what the maps must be), and stops everything.

    /usr/bin/python3 service/store/testdata/record_cluster_replies.py [OUT_DIR]

Ports and node ids differ on every run; the tests read them from the recorded files.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def encode(*args):
    out = b"*%d\r\n" % len(args)
    for arg in args:
        arg = arg if isinstance(arg, bytes) else str(arg).encode()
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


def raw(port, *commands):
    """Sends the commands on one connection; returns every byte received until it goes quiet."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"".join(encode(*c) for c in commands))
        s.settimeout(0.5)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return data
            if not chunk:
                return data
            data += chunk


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], check=True, capture_output=True,
                          text=True).stdout


def wait_ok(ports, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all("cluster_state:ok" in cli(p, "cluster", "info") for p in ports):
            return
        time.sleep(0.1)
    raise SystemExit("cluster did not become ok")


def nodes(port):
    """CLUSTER NODES as {id: (port, flags, slots, master_id)}."""
    result = {}
    for line in cli(port, "cluster", "nodes").splitlines():
        f = line.split()
        result[f[0]] = (int(f[1].split(":")[1].split("@")[0]), f[2], f[8:], f[3])
    return result


def key_in_slot_of(port, node_id, n):
    """A key whose slot node_id serves, found by asking the server (CLUSTER KEYSLOT)."""
    owned = set()
    for _, (_, _, slots, _) in [(i, v) for i, v in nodes(port).items() if i == node_id]:
        for s in slots:
            if s.startswith("["):
                continue
            a, _, b = s.partition("-")
            owned.update(range(int(a), int(b or a) + 1))
    i = 0
    while True:
        key = "k%d-%d" % (n, i)
        if int(cli(port, "cluster", "keyslot", key)) in owned:
            return key
        i += 1


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__))
    work = tempfile.mkdtemp(prefix="hubstats-record-")
    procs, ports = [], []
    try:
        for i in range(6):
            port, bus = free_port(), free_port()
            d = os.path.join(work, str(i))
            os.mkdir(d)
            procs.append(subprocess.Popen(
                ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--cluster-port",
                 str(bus), "--cluster-enabled", "yes", "--cluster-node-timeout", "1000",
                 "--cluster-replica-validity-factor", "0", "--dir", d, "--save", "",
                 "--appendonly", "no", "--protected-mode", "no"],
                stdout=subprocess.DEVNULL))
            ports.append(port)
        time.sleep(0.5)
        subprocess.run(["redis-cli", "--cluster", "create",
                        *["127.0.0.1:%d" % p for p in ports], "--cluster-replicas", "1",
                        "--cluster-yes"], check=True, capture_output=True)
        wait_ok(ports)
        time.sleep(1)  # Let the replicas report their replication offsets.
        p0 = ports[0]

        def record(name, data):
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)

        record("initial_cluster_shards.resp", raw(p0, ["CLUSTER", "SHARDS"]))
        record("initial_cluster_slots.resp", raw(p0, ["CLUSTER", "SLOTS"]))
        record("initial_cluster_nodes.txt", cli(p0, "cluster", "nodes").encode())

        view = nodes(p0)
        masters = sorted((v[0], i) for i, v in view.items() if "master" in v[1])
        (_, a_id), (b_port, b_id), (c_port, c_id) = masters
        a_port = view[a_id][0]
        # MOVED: a key of master B asked on master A.
        key_b = key_in_slot_of(p0, b_id, 0)
        record("moved.resp", raw(a_port, ["SET", key_b, "1"]))
        # MOVED inside MULTI: the queued command is refused, EXEC aborts.
        record("multi_moved.resp", raw(a_port, ["MULTI"], ["INCR", key_b], ["EXEC"]))
        # ASK and TRYAGAIN: a slot of B half migrated to C.
        slot = int(cli(p0, "cluster", "keyslot", key_b))
        tag = "{%s}" % key_b
        present, absent = tag + ":present", tag + ":absent"
        cli(b_port, "set", present, "1")
        # An error that is the caller's, not routing.
        record("wrongtype.resp", raw(b_port, ["LPUSH", present, "1"]))
        cli(c_port, "cluster", "setslot", str(slot), "importing", b_id)
        cli(b_port, "cluster", "setslot", str(slot), "migrating", c_id)
        record("ask.resp", raw(b_port, ["GET", absent]))
        record("tryagain.resp", raw(b_port, ["MGET", present, absent]))
        record("importing_without_asking.resp", raw(c_port, ["GET", absent]))
        record("importing_asking.resp", raw(c_port, ["ASKING"], ["GET", absent]))
        for p in (b_port, c_port):
            cli(p, "cluster", "setslot", str(slot), "stable")
        # Reshard part of A's slots to B and C, so A serves several ranges; then kill -9 A and
        # wait for its replica to take over: the maps now hold a failed master.
        for to_id, count in ((b_id, 100), (c_id, 50)):
            subprocess.run(["redis-cli", "--cluster", "reshard", "127.0.0.1:%d" % p0,
                            "--cluster-from", a_id, "--cluster-to", to_id, "--cluster-slots",
                            str(count), "--cluster-yes"], check=True, capture_output=True)
        # Take a slot from the middle of A's ranges too (a node with three ranges).
        a_slots = [s for s in view[a_id][2] if not s.startswith("[")]
        first, _, last = a_slots[0].partition("-")
        middle = (int(first) + int(last)) // 2
        # The documented move of an (empty) slot: importing, migrating, then the new owner first.
        cli(c_port, "cluster", "setslot", str(middle), "importing", a_id)
        cli(a_port, "cluster", "setslot", str(middle), "migrating", c_id)
        for p in [c_port, a_port] + [p for p in ports if p not in (a_port, c_port)]:
            cli(p, "cluster", "setslot", str(middle), "node", c_id)
        subprocess.run(["redis-cli", "--cluster", "fix", "127.0.0.1:%d" % p0, "--cluster-yes"],
                       capture_output=True)
        victim = procs[ports.index(a_port)]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        # Wait until a surviving node sees A failed and its replica serving A's slots, and
        # every surviving node says the cluster is ok; then record.
        asked = b_port
        deadline = time.time() + 30
        while True:
            view = nodes(asked)
            if ("fail" in view[a_id][1] and not view[a_id][2] and
                    any(v[3] == "-" and "fail" not in v[1] and v[2] and i not in (b_id, c_id)
                        for i, v in view.items())):
                break
            if time.time() > deadline:
                raise SystemExit("no failover")
            time.sleep(0.1)
        wait_ok([p for p in ports if p != a_port])
        before = cli(asked, "cluster", "nodes")
        record("failover_cluster_shards.resp", raw(asked, ["CLUSTER", "SHARDS"]))
        record("failover_cluster_slots.resp", raw(asked, ["CLUSTER", "SLOTS"]))
        after = cli(asked, "cluster", "nodes")
        if [l.split()[:3] + l.split()[8:] for l in before.splitlines()] != \
           [l.split()[:3] + l.split()[8:] for l in after.splitlines()]:
            raise SystemExit("the topology changed while recording; run again")
        record("failover_cluster_nodes.txt", after.encode())
        # CLUSTERDOWN: a slot nobody serves.
        cli(b_port, "cluster", "delslots", str(slot))
        time.sleep(0.2)
        record("clusterdown.resp", raw(b_port, ["GET", key_b]))
        # READONLY: a write to a plain (non-cluster) replica.
        port, d = free_port(), os.path.join(work, "replica")
        os.mkdir(d)
        procs.append(subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", d, "--save", "",
             "--replicaof", "127.0.0.1", str(free_port())], stdout=subprocess.DEVNULL))
        time.sleep(0.5)
        record("readonly.resp", raw(port, ["SET", "k", "1"]))
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
