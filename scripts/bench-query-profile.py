#!/usr/bin/python3
"""Summarises scripts/bench-query-profile.sh's files (its OUT directory, the one argument).

For each run: the client's p50/p99 per query kind (hubstats-bench query --json) and the server's
handling time per method from the delta of hubstats_grpc_server_handling_seconds between the
scrapes before and after the run (quantiles interpolated within the buckets, as Prometheus'
histogram_quantile does; the bucket is given too). For the captured runs: per call, the time
from the request's last byte reaching the server's socket to the response's last byte leaving
it (what the server process holds a call, transport included), per kind. For the profiles:
each process's share of the CPU, the server's, the bench's and the replica's samples by
mechanism, and the scheduling delay (wakeup to running) of each process's threads. For the lock
run: how long ReadModel::Apply held the writer lock, and which calls on the wire overlapped it.
"""
import collections
import glob
import gzip
import json
import os
import re
import statistics
import struct
import sys

KINDS = [f"{query}{scope}" for scope in ("", "_day", "_30d")
         for query in ("modality_share", "size_distribution", "top50_models", "top50_authors")]
METHOD_OF = {"modality_share": "GetModalityShare", "size_distribution": "GetSizeDistribution",
             "top50_models": "GetTopN", "top50_authors": "GetTopN"}
QUERY_METHODS = ["GetModalityShare", "GetSizeDistribution", "GetTopN"]


def percentile(values, p):
    """hubstats-bench's definition (client/bench/workload.cc): the nearest rank."""
    if not values:
        return float("nan")
    values = sorted(values)
    index = min(len(values) - 1, max(0, -(-len(values) * p // 100) - (1 if p > 0 else 0)))
    return values[int(index)]


# --- Prometheus text ------------------------------------------------------------------------

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def read_prom(path):
    samples = {}
    for line in open(path):
        if line.startswith("#"):
            continue
        match = LINE.match(line.strip())
        if match:
            labels = tuple(sorted(LABEL.findall(match.group(2) or "")))
            samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def delta_histogram(before, after, name, **want):
    """{le: count} of the run (after - before), for the series whose labels include `want`."""
    buckets = collections.Counter()
    for (metric, labels), value in after.items():
        if metric != name + "_bucket":
            continue
        label = dict(labels)
        if any(label.get(k) != v for k, v in want.items()):
            continue
        le = float(label["le"])  # "+Inf" parses as inf
        buckets[le] += value - before.get((metric, labels), 0.0)
    return dict(sorted(buckets.items()))


def histogram_quantile(buckets, q):
    """(value, lower, upper) in seconds; value interpolated linearly in its bucket."""
    if not buckets:
        return (float("nan"),) * 3
    total = buckets[max(buckets)]
    if total <= 0:
        return (float("nan"),) * 3
    rank = q * total
    lower, previous = 0.0, 0.0
    for le, count in buckets.items():
        if count >= rank:
            if le == float("inf"):
                return lower, lower, le
            value = lower + (le - lower) * (rank - previous) / max(count - previous, 1e-9)
            return value, lower, le
        lower, previous = le, count
    return lower, lower, float("inf")


def delta(before, after, name, **want):
    total = 0.0
    for (metric, labels), value in after.items():
        if metric == name and all(dict(labels).get(k) == v for k, v in want.items()):
            total += value - before.get((metric, labels), 0.0)
    return total


def fmt_ms(seconds):
    return f"{seconds * 1000:.2f}"


def bucket_text(lower, upper):
    up = "inf" if upper == float("inf") else f"{upper * 1000:g}"
    return f"({lower * 1000:g}, {up}] ms"


def server_summary(out, name):
    before = read_prom(os.path.join(out, f"{name}.before.prom"))
    after = read_prom(os.path.join(out, f"{name}.after.prom"))
    result = {}
    for method in QUERY_METHODS:
        full = f"/hubstats.v1.QueryService/{method}"
        buckets = delta_histogram(before, after, "hubstats_grpc_server_handling_seconds",
                                  method=full)
        count = buckets[max(buckets)] if buckets else 0
        result[method] = {"count": count, "p50": histogram_quantile(buckets, 0.50),
                          "p99": histogram_quantile(buckets, 0.99),
                          "p999": histogram_quantile(buckets, 0.999),
                          "under_0.5ms": buckets.get(0.0005, 0) / count if count else float("nan")}
    seconds_between = None
    extras = {
        "ReadChanges calls (follower polls)": delta(before, after, "hubstats_store_call_seconds_count",
                                                     call="ReadChanges"),
        "change records applied": delta(before, after, "hubstats_read_model_records_applied_total"),
        "commit windows": delta(before, after, "hubstats_commit_windows_total"),
        "events accepted": delta(before, after, "hubstats_ingest_events_total", outcome="accepted"),
        "GetTotals calls": delta(before, after, "hubstats_grpc_server_handling_seconds_count",
                                 method="/hubstats.v1.QueryService/GetTotals"),
    }
    polls = delta_histogram(before, after, "hubstats_store_call_seconds", call="ReadChanges")
    extras["ReadChanges p50/p99 ms"] = "/".join(
        fmt_ms(histogram_quantile(polls, q)[0]) for q in (0.5, 0.99))
    window_events = delta_histogram(before, after, "hubstats_commit_window_events")
    if window_events and window_events[max(window_events)] > 0:
        extras["commit window events p50/p99"] = "/".join(
            f"{histogram_quantile(window_events, q)[0]:.0f}" for q in (0.5, 0.99))
    return result, extras, seconds_between


# --- the loopback capture -------------------------------------------------------------------

def read_pcap(path):
    """Yields (time, src_port, dst_port, seq, payload) of the IPv4 TCP packets."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    else:
        endian = ">"
        magic = struct.unpack(">I", data[:4])[0]
    scale = 1e-9 if magic == 0xA1B23C4D else 1e-6
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    l2 = {1: 14, 113: 16, 276: 20, 0: 4}.get(linktype)
    if l2 is None:
        raise SystemExit(f"{path}: link type {linktype} not handled")
    offset = 24
    while offset + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
        offset += 16
        packet = data[offset:offset + incl]
        offset += incl
        if len(packet) < l2 + 20 or packet[l2] >> 4 != 4:
            continue
        ihl = (packet[l2] & 0x0F) * 4
        total = struct.unpack(">H", packet[l2 + 2:l2 + 4])[0]
        if packet[l2 + 9] != 6:
            continue
        tcp = l2 + ihl
        sport, dport, seq = struct.unpack(">HHI", packet[tcp:tcp + 8])
        doff = (packet[tcp + 12] >> 4) * 4
        payload = packet[tcp + doff:l2 + total]
        yield sec + frac * scale, sport, dport, seq, payload


class Direction:
    """One direction of an HTTP/2 connection: reassembles the bytes, yields complete frames."""

    def __init__(self, client):
        self.buffer = b""
        self.next_seq = None
        self.skip = 24 if client else 0  # the client's connection preface
        self.broken = False

    def feed(self, seq, payload):
        if self.broken or not payload:
            return []
        if self.next_seq is None:
            self.next_seq = seq
        if seq != self.next_seq:
            ahead = (seq - self.next_seq) & 0xFFFFFFFF
            if ahead < 0x80000000:  # a gap: bytes were not captured
                self.broken = True
                return []
            behind = (self.next_seq - seq) & 0xFFFFFFFF
            payload = payload[behind:]  # a retransmission
            if not payload:
                return []
        self.next_seq = (self.next_seq + len(payload)) & 0xFFFFFFFF
        self.buffer += payload
        if self.skip:
            taken = min(self.skip, len(self.buffer))
            self.buffer = self.buffer[taken:]
            self.skip -= taken
        frames = []
        while len(self.buffer) >= 9:
            length = int.from_bytes(self.buffer[:3], "big")
            if len(self.buffer) < 9 + length:
                break
            kind, flags = self.buffer[3], self.buffer[4]
            stream = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
            frames.append((kind, flags, stream, length))
            self.buffer = self.buffer[9 + length:]
        return frames


def wire_calls(path, server_port):
    """Per connection to the server: [(stream, request complete, response complete, bytes)]."""
    directions = {}
    calls = collections.defaultdict(dict)
    for time, sport, dport, seq, payload in read_pcap(path):
        if dport == server_port:
            key, client = (sport, "in"), True
        elif sport == server_port:
            key, client = (dport, "out"), False
        else:
            continue
        direction = directions.setdefault(key, Direction(client))
        for kind, flags, stream, length in direction.feed(seq, payload):
            if stream == 0 or kind not in (0, 1):
                continue
            call = calls[key[0]].setdefault(stream, {"bytes": 0})
            if client and flags & 0x1:
                call["request"] = time
            elif not client:
                call.setdefault("first_out", time)
                if kind == 0:
                    call["bytes"] += length
                if flags & 0x1:
                    call["response"] = time
    broken = [k for k, d in directions.items() if d.broken]
    return calls, broken


def wire_summary(out, name, server_port):
    path = os.path.join(out, f"{name}.pcap")
    if not os.path.exists(path):
        return None
    calls, broken = wire_calls(path, server_port)
    if not calls:
        return None
    # The query connection is the one with many calls (ingest streams are few and long).
    port, streams = max(calls.items(), key=lambda item: len(item[1]))
    per_kind = collections.defaultdict(list)
    sizes = collections.defaultdict(list)
    raw = []
    for index, stream in enumerate(sorted(streams)):
        call = streams[stream]
        if "request" in call and "response" in call:
            kind = KINDS[index % len(KINDS)]  # --concurrency 1 asks the kinds round robin
            per_kind[kind].append((call["response"] - call["request"]) * 1000)
            sizes[kind].append(call["bytes"])
            raw.append((call["request"], call["response"]))
    return per_kind, sizes, broken, len(streams), raw


# --- profiles ------------------------------------------------------------------------------

def read_roles(out):
    roles = {}
    for line in open(os.path.join(out, "stack.txt")):
        if line.startswith("profile-"):
            name, rest = line.split(":", 1)
            roles[name] = {role.split(":")[0]: int(role.split(":")[1]) for role in rest.split()}
    return roles


SAMPLE = re.compile(r"^(\S.*?)\s+(\d+)/(\d+)\s*$")
FRAME = re.compile(r"^\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")


def read_script(path):
    """Yields (pid, tid, comm, [(symbol, dso)] leaf first)."""
    sample = None
    with gzip.open(path, "rt", errors="replace") as f:
        for line in f:
            if not line.strip():
                if sample:
                    yield sample
                sample = None
                continue
            match = SAMPLE.match(line)
            if match and not line[0].isspace():
                if sample:
                    yield sample
                sample = (int(match.group(2)), int(match.group(3)), match.group(1), [])
                continue
            frame = FRAME.match(line)
            if frame and sample:
                sample[3].append((frame.group(2), os.path.basename(frame.group(3))))
    if sample:
        yield sample


def mechanism(frames):
    """How a sample's CPU was spent: the work, or the machinery around it."""
    symbols = [symbol for symbol, _ in frames]
    text = " ".join(symbols)
    dsos = " ".join(dso for _, dso in frames)
    if "Follower::" in text:
        if "ReadModel::Apply" in text or "ReadModel::Maintain" in text or "ReadModel::LoadShard" in text:
            return "follower: applying change records (under the writer lock)"
        return "follower: polling the change log (Redis round trip, parsing)"
    if "GroupCommit" in text or "ApplyWindow" in text or "CommitPlan" in text:
        return "ingest: group commit"
    if "IngestService" in text or "IngestDecoder" in text or "DecodeBatch" in text or "RunIngestLoad" in text:
        return "ingest: streams (decode, validate / generate, send)"
    if "ReadModel::" in text:
        return "query work: read model (rankings, aggregates)"
    if any(k in text for k in ("futex", "CondVar", "Mutex::Wakeup", "Mutex::Block", "PerThreadSem",
                               "pthread_cond", "epoll_wait", "eventfd", "ep_poll", "Mutex::Lock",
                               "Mutex::Unlock", "sched_yield")):
        return "thread hand-offs and waits (futex, condvar, eventfd, epoll)"
    if any(k in text for k in ("sendmsg", "recvmsg", "tcp_send", "tcp_recv", "__libc_write", "__libc_read")):
        return "socket I/O (sendmsg, recvmsg)"
    inner = frames[:6]
    if any("google::protobuf" in symbol or "libprotobuf" in dso or "Response::" in symbol
           or "Request::" in symbol for symbol, dso in inner):
        return "protobuf: parse, serialize, free"
    if "grpc" in text.lower() or "libgrpc" in dsos or "libgpr" in dsos:
        return "gRPC call processing (HTTP/2, call state, metadata)"
    if "malloc" in text or "free" in text or "operator new" in text:
        return "malloc/free (elsewhere)"
    if frames and all(dso in ("[kernel.kallsyms]", "[unknown]") for _, dso in frames):
        return "kernel only (no user frames)"
    return "other"


def leaf_kind(frames):
    if not frames:
        return "unknown"
    symbol, dso = frames[0]
    text = " ".join(s for s, _ in frames[:6])
    if "futex" in text or "rwlock" in text or "mutex" in text.lower() or "sem_" in text:
        return "locks and futexes"
    if dso == "[kernel.kallsyms]":
        if any(k in text for k in ("tcp_", "sock", "skb", "ip_", "inet", "netif", "__dev_queue", "loopback")):
            return "kernel: network (loopback TCP)"
        if any(k in text for k in ("epoll", "ep_poll", "poll", "schedule", "switch", "pick_next", "wake")):
            return "kernel: scheduling, epoll"
        return "kernel: other (syscalls, irq, memory)"
    if "libgrpc" in dso or "libgpr" in dso or "libaddress_sorting" in dso:
        return "libgrpc"
    if "libprotobuf" in dso:
        return "libprotobuf"
    if "libc" in dso or "ld-linux" in dso:
        if any(k in symbol for k in ("malloc", "free", "_int_", "cfree", "realloc")):
            return "malloc/free"
        if "mem" in symbol or "str" in symbol:
            return "libc: memcpy/memset/strings"
        return "libc: other"
    if "libabsl" in dso:
        return "abseil"
    if "libstdc++" in dso:
        return "libstdc++"
    if "hiredis" in dso:
        return "hiredis"
    if "ssl" in dso or "crypto" in dso:
        return "openssl"
    return "hubstats code" if "hubstats" in dso else f"other ({dso})"


def profile_summary(out, name, roles):
    path = os.path.join(out, f"{name}.script.gz")
    if not os.path.exists(path):
        return None
    by_pid = collections.Counter()
    comm_of = {}
    mechs = {role: collections.Counter() for role in ("server", "bench", "replica")}
    leaves = {role: collections.Counter() for role in ("server", "bench", "replica")}
    threads = {role: collections.Counter() for role in ("server", "bench", "replica")}
    pid_role = {pid: role for role, pid in roles.items()}
    total = 0
    for pid, tid, comm, frames in read_script(path):
        total += 1
        by_pid[pid] += 1
        comm_of.setdefault(pid, comm)
        role = pid_role.get(pid)
        if role in mechs:
            mechs[role][mechanism(frames)] += 1
            leaves[role][leaf_kind(frames)] += 1
            threads[role][comm] += 1
    return total, by_pid, comm_of, mechs, leaves, threads, pid_role


TIMEHIST = re.compile(r"^\s*(\d+\.\d+)\s+\[(\d+)\]\s+(.*?)\[(\d+)(?:/\d+)?\]\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)")


def sched_summary(path):
    """Per thread name: wakeups and their scheduling delay (ms), run time (ms)."""
    delays = collections.defaultdict(list)
    runtime = collections.Counter()
    if not os.path.exists(path):
        return delays, runtime
    with gzip.open(path, "rt", errors="replace") as f:
        for line in f:
            match = TIMEHIST.match(line)
            if not match:
                continue
            comm = re.sub(r"\d+$", "N", match.group(3))
            delay = float(match.group(6))
            runtime[comm] += float(match.group(7))
            if float(match.group(5)) > 0 or delay > 0:  # it had slept: a wakeup
                delays[comm].append(delay)
    return delays, runtime


def apply_intervals(out, name):
    """[(start, end)] wall-clock seconds of ReadModel::Apply calls (uprobe entry to return)."""
    path = os.path.join(out, f"{name}.apply.gz")
    if not os.path.exists(path):
        return None
    # perf's CLOCK_MONOTONIC to tcpdump's CLOCK_REALTIME.
    offset_path = os.path.join(out, f"{name}.clock-offset")
    offset = float(open(offset_path).read()) if os.path.exists(offset_path) else 0.0
    entered, intervals = {}, []
    with gzip.open(path, "rt", errors="replace") as f:
        for line in f:
            match = re.match(r"^\s*(\d+)\s+([\d.]+):\s+(\S+):", line)
            if not match:
                continue
            tid, time, event = int(match.group(1)), float(match.group(2)) + offset, match.group(3)
            if "return" in event or event.endswith("apply_ret"):
                if tid in entered:
                    intervals.append((entered.pop(tid), time))
            elif event.endswith(":apply"):
                entered[tid] = time
    return sorted(intervals)


def lock_report(out, name, server_port):
    intervals = apply_intervals(out, name)
    if not intervals:
        return
    first, last = intervals[0][0], intervals[-1][1]
    seconds = max(last - first, 1e-9)
    durations = [(b - a) * 1000 for a, b in intervals]
    print(f"\n== {name}: ReadModel::Apply (uprobes; the writer lock is held for each) ==\n"
          f"{len(durations)} calls ({len(durations) / seconds:.0f}/s over {seconds:.1f} s), "
          f"p50 {percentile(durations, 50):.3f} p99 {percentile(durations, 99):.3f} "
          f"max {max(durations):.3f} ms; locked {sum(durations) / 1000 / seconds * 100:.1f}% of the time")
    wire = wire_summary(out, name, server_port)
    if wire is None:
        return
    calls = [(a, b) for a, b in wire[4] if first <= a and b <= last]
    starts = [a for a, _ in intervals]
    import bisect

    def overlap(call):
        a, b = call
        i = bisect.bisect_left(starts, b)  # intervals starting before the call ended
        total = 0.0
        for start, end in intervals[max(0, i - 50):i]:
            if end > a:
                total += min(end, b) - max(start, a)
        return total * 1000

    rows = [((b - a) * 1000, overlap((a, b))) for a, b in calls]
    if not rows:
        return
    print(f"calls on the wire within that time: {len(rows)}; share that overlapped an Apply:")
    ranked = sorted(rows)
    for label, subset in (("all", rows),
                          ("wire <= 0.5 ms", [r for r in rows if r[0] <= 0.5]),
                          ("wire > 1 ms", [r for r in rows if r[0] > 1]),
                          ("wire > 2 ms", [r for r in rows if r[0] > 2]),
                          ("slowest 1%", ranked[-max(1, len(ranked) // 100):])):
        if subset:
            hit = [r for r in subset if r[1] > 0]
            print(f"  {label:16} {len(subset):6d} calls, {len(hit) / len(subset) * 100:5.1f}% overlapped an Apply"
                  + (f" (median overlap {statistics.median(r[1] for r in hit):.2f} ms of median "
                     f"{statistics.median(r[0] for r in hit):.2f} ms)" if hit else ""))


# --- report --------------------------------------------------------------------------------

def main():
    out = sys.argv[1]
    stack = open(os.path.join(out, "stack.txt")).readline()
    server_port = int(re.search(r"port (\d+)", stack).group(1))
    print(open(os.path.join(out, "machine.txt")).read().strip())
    print("#", stack.strip())
    runs = sorted({os.path.basename(p)[:-len(".before.prom")]
                   for p in glob.glob(os.path.join(out, "*.before.prom"))
                   if os.path.exists(p.replace(".before.prom", ".after.prom"))})
    table = collections.defaultdict(lambda: collections.defaultdict(list))
    print("\n== client (hubstats-bench, per kind) against server (handling histogram, per method) ==")
    for name in runs:
        load = "ingest" if name.endswith("ingest") or name.startswith(("split", "threads")) else "idle"
        client_path = os.path.join(out, f"{name}.json")
        if not os.path.exists(client_path):
            continue
        client = json.load(open(client_path))
        server, extras, _ = server_summary(out, name)
        ingest_path = os.path.join(out, f"{name}.ingest.json")
        if os.path.exists(ingest_path):  # ingest from another bench process
            client["ingest_events_per_s"] = json.load(open(ingest_path))["events_per_s"]
        print(f"\n-- {name}" + (f" (ingest meanwhile {client.get('ingest_events_per_s', 0):.0f} events/s, "
                                  f"lag p99 {client.get('lag_p99_ms', float('nan')):.1f} ms)"
                                  if load == "ingest" else ""))
        print(f"{'kind':24} {'n':>7} {'client p50':>10} {'p99':>8} {'p99.9':>8}")
        for kind in KINDS:
            c = client[kind]
            print(f"{kind:24} {c['count']:7d} {c['p50_ms']:10.3f} {c['p99_ms']:8.3f} {c['p999_ms']:8.3f}")
            table[(load, kind)]["client_p50"].append(c["p50_ms"])
            table[(load, kind)]["client_p99"].append(c["p99_ms"])
        for method in QUERY_METHODS:
            s = server[method]
            ccount = sum(client[k]["count"] for k in KINDS if METHOD_OF[k.replace("_day", "").replace("_30d", "")] == method)
            print(f"server {method:20} n={s['count']:.0f} (client {ccount})  "
                  f"p50 {fmt_ms(s['p50'][0])} ms in {bucket_text(*s['p50'][1:])}, "
                  f"p99 {fmt_ms(s['p99'][0])} ms in {bucket_text(*s['p99'][1:])}, "
                  f"p99.9 {fmt_ms(s['p999'][0])} ms; share <= 0.5 ms {s['under_0.5ms'] * 100:.2f}%")
            table[(load, method)]["server_p50"].append(s["p50"][0] * 1000)
            table[(load, method)]["server_p99"].append(s["p99"][0] * 1000)
            table[(load, method)]["server_under_half_ms"].append(s["under_0.5ms"] * 100)
        print("  " + "; ".join(f"{k}: {v if isinstance(v, str) else f'{v:.0f}'}" for k, v in extras.items()))

    print("\n== medians over the clean runs (run*: one bench process; split*: ingest from another "
          "bench process, queries to the ingesting server (same) or to the replica; threads-Q-I*: "
          "the server restarted with --workers Q --ingest-workers I) ==")
    med = collections.defaultdict(lambda: collections.defaultdict(list))
    for name in runs:
        if not re.match(r"^(run|split|threads)\d+-", name):
            continue
        load = re.sub(r"^([a-z]+)\d+-", r"\1-", name)
        client = json.load(open(os.path.join(out, f"{name}.json")))
        server, _, _ = server_summary(out, name)
        for method in QUERY_METHODS:
            kinds = [k for k in KINDS if METHOD_OF[k.replace("_day", "").replace("_30d", "")] == method]
            med[(load, method)]["client_p50_range"].append((min(client[k]["p50_ms"] for k in kinds),
                                                          max(client[k]["p50_ms"] for k in kinds)))
            med[(load, method)]["client_p99_range"].append((min(client[k]["p99_ms"] for k in kinds),
                                                          max(client[k]["p99_ms"] for k in kinds)))
            med[(load, method)]["server_p50"].append(server[method]["p50"][0] * 1000)
            med[(load, method)]["server_p99"].append(server[method]["p99"][0] * 1000)
            med[(load, method)]["server_under"].append(server[method]["under_0.5ms"] * 100)
    for (load, method), values in sorted(med.items()):
        def mrange(pairs):
            return f"{statistics.median(p[0] for p in pairs):.2f}-{statistics.median(p[1] for p in pairs):.2f}"
        print(f"{load:14} {method:20} client p50 {mrange(values['client_p50_range'])} ms, "
              f"p99 {mrange(values['client_p99_range'])} ms | server p50 "
              f"{statistics.median(values['server_p50']):.3f} ms, p99 {statistics.median(values['server_p99']):.3f} ms "
              f"(runs: {', '.join(f'{v:.2f}' for v in values['server_p99'])}), "
              f"<= 0.5 ms: {statistics.median(values['server_under']):.2f}%")

    print("\n== the loopback wire: request's last byte in to response's last byte out (server process) ==")
    for name in ("wire-idle", "wire-ingest", "lock-ingest"):
        wire = wire_summary(out, name, server_port)
        if wire is None:
            continue
        per_kind, sizes, broken, streams, _ = wire
        client = json.load(open(os.path.join(out, f"{name}.json")))
        print(f"\n-- {name}: {streams} calls on the query connection; connections with gaps in the capture: {len(broken)}")
        print(f"{'kind':24} {'n':>6} {'resp B':>7} {'wire p50':>9} {'p99':>7} {'p99.9':>7} | {'client p50':>10} {'p99':>7} | client-wire p50 {'p99':>6}")
        allw = []
        for kind in KINDS:
            w = per_kind.get(kind, [])
            allw += w
            c = client[kind]
            print(f"{kind:24} {len(w):6d} {statistics.median(sizes[kind]) if sizes[kind] else 0:7.0f} "
                  f"{percentile(w, 50):9.3f} {percentile(w, 99):7.3f} {percentile(w, 99.9):7.3f} | "
                  f"{c['p50_ms']:10.3f} {c['p99_ms']:7.3f} | {c['p50_ms'] - percentile(w, 50):15.3f} "
                  f"{c['p99_ms'] - percentile(w, 99):6.3f}")
        server, _, _ = server_summary(out, name)
        print(f"all kinds: wire p50 {percentile(allw, 50):.3f} p99 {percentile(allw, 99):.3f} "
              f"p99.9 {percentile(allw, 99.9):.3f} ms; over 1 ms {sum(x > 1 for x in allw) / max(len(allw), 1) * 100:.2f}%, "
              f"over 2 ms {sum(x > 2 for x in allw) / max(len(allw), 1) * 100:.2f}%")
        for method in QUERY_METHODS:
            s = server[method]
            print(f"  server histogram {method}: p50 {fmt_ms(s['p50'][0])} p99 {fmt_ms(s['p99'][0])} ms, "
                  f"<= 0.5 ms {s['under_0.5ms'] * 100:.2f}%")

    roles_of = read_roles(out)
    for load in ("idle", "ingest"):
        name = f"profile-{load}"
        if name not in roles_of:
            continue
        roles = roles_of[name]
        profile = profile_summary(out, name, roles)
        client = json.load(open(os.path.join(out, f"{name}.json")))
        print(f"\n== {name}: client p99 during it {min(client[k]['p99_ms'] for k in KINDS):.2f}-"
              f"{max(client[k]['p99_ms'] for k in KINDS):.2f} ms ==")
        if profile:
            total, by_pid, comm_of, mechs, leaves, threads, pid_role = profile
            print(f"CPU samples (perf record -a, 299 Hz per CPU): {total}; by process:")
            for pid, count in by_pid.most_common(10):
                print(f"  {count / total * 100:5.1f}%  {pid_role.get(pid, comm_of[pid])} ({comm_of[pid]} {pid})")
            for role in ("server", "bench", "replica"):
                n = sum(mechs[role].values())
                if not n:
                    continue
                print(f"{role}: {n} samples ({n / total * 100:.1f}% of all); by mechanism (share of the {role}'s samples):")
                for what, count in mechs[role].most_common(12):
                    print(f"  {count / n * 100:5.1f}%  {what}")
                print(f"  by leaf: " + ", ".join(f"{what} {count / n * 100:.1f}%" for what, count in leaves[role].most_common(9)))
                print(f"  by thread name: " + ", ".join(f"{what} {count / n * 100:.1f}%" for what, count in threads[role].most_common(8)))
        print("scheduling delay, wakeup to running (perf sched timehist), per thread name:")
        for role in ("server", "bench", "replica", "redis", "all"):
            delays, runtime = sched_summary(os.path.join(out, f"{name}.timehist-{role}.gz"))
            every = [d for ds in delays.values() for d in ds]
            if not every:
                continue
            print(f"  {role}: {len(every)} wakeups, delay p50 {percentile(every, 50):.3f} p99 {percentile(every, 99):.3f} "
                  f"max {max(every):.3f} ms; over 1 ms {sum(d > 1 for d in every)}")
            if role == "all":
                for comm, rt in runtime.most_common(8):
                    print(f"    run time {rt:9.1f} ms  {comm}")
                continue
            for comm, ds in sorted(delays.items(), key=lambda item: -len(item[1]))[:6]:
                print(f"    {comm:24} {len(ds):6d} wakeups, p50 {percentile(ds, 50):.3f} p99 {percentile(ds, 99):.3f} "
                      f"max {max(ds):.3f} ms, run {runtime[comm]:.0f} ms")

    lock_report(out, "lock-ingest", server_port)


if __name__ == "__main__":
    main()
