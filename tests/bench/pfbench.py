#!/usr/bin/env python3
"""pfbench.py - the rounds of the Postfix benchmark, run by tests/bench/postfix.sh

    pfbench.py --sink FILE --inject PFINJECT [--rounds R] [--sessions S]
               [--warmup N] --load NAME:COUNT:GLOB ...
               [--check NAME:PORT ...] --mode NAME:PORT[:LOG[:PID]] ...

Everything must already run: Postfix with one smtpd per mode on
127.0.0.1:PORT (e.g. one without a milter, one per null milter, one with
moatd on a unix socket, one with moatd on TCP), all relaying to one
smtp-sink started with -c, whose stdout is FILE (its running "mesg=N"
counter). A --check port is the sink itself (or anything else that counts
in FILE): it is measured like a mode but is no part of the ratios; it shows
what the injector and the sink do alone.

One run = PFINJECT (tests/bench/pfinject.c) sends COUNT messages made from
the files GLOB matches to one mode's port over S parallel sessions (one
message per connection), each with a token of its own in every part, so no
two messages of the whole benchmark are alike; its time is from the start
of pfinject to the moment the sink's counter shows the last message
delivered. For each load, after one unmeasured warm-up run per mode, R
rounds each run every mode once, the order rotating from round to round so
no mode always goes first. A run that does not complete (pfinject error,
a 4xx from the milter, nothing delivered for 60 s) stops the benchmark.

For a mode with LOG (a moatd's stderr, -f): the "ms=N" of its summary lines
written during a load's measured runs give the p50/p99 per message (the
time from MAIL FROM to the verdict, queueing behind other sessions
included), and every run must add exactly COUNT lines with action=accept.
LOG may be empty (a null milter). For a mode with PID (the milter's
process), its VmHWM (peak resident set) is read after each load, its CPU
time (utime + stime) around each run.

Prints one table row per load and mode: messages per run, median seconds,
msgs/s, the ratio of the mode's median rate to the first mode's (1.00 = no
cost), moatd p50/p99 ms, peak RSS MB, then CPU per message (medians over
the runs): the whole machine's (/proc/stat, every process: Postfix,
pfinject, smtp-sink, the milter, and anything else running) and the
milter's own. Then, per load, the check: how many times each mode's rate
the --check rate is (the injector and the sink are not the bottleneck when
it is well above 1 for every mode, Postfix alone included; below 1.5 the
line says so).
"""
import argparse
import glob
import os
import re
import statistics
import subprocess
import sys
import time

STALL = 60.0  # seconds without a delivery before a run is declared stuck
MESG = re.compile(rb"mesg=(\d+)")
SUMMARY = re.compile(r" action=(\S+) .* ms=(\d+)$")
TICK = os.sysconf("SC_CLK_TCK")


def machine_cpu_ms():
    """CPU time all processors spent busy so far, in ms (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: all but idle, iowait
    return (sum(v[:8]) - v[3] - v[4]) * 1000.0 / TICK


class Sink:
    """The counter of an smtp-sink -c, read from the tail of its stdout."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDONLY)

    def count(self):
        size = os.fstat(self.fd).st_size
        tail = os.pread(self.fd, 256, max(0, size - 256))
        found = MESG.findall(tail)
        return int(found[-1]) if found else 0


class Mode:
    def __init__(self, spec):
        parts = spec.split(":")
        if len(parts) not in (2, 3, 4):
            raise SystemExit("pfbench.py: --mode NAME:PORT[:LOG[:PID]], not %r" % spec)
        self.name, self.port = parts[0], int(parts[1])
        self.log = parts[2] if len(parts) > 2 and parts[2] else None
        self.pid = int(parts[3]) if len(parts) == 4 and parts[3] else None
        self.check = False
        self.secs = {}		# load name -> [seconds per measured run]
        self.ms = {}		# load name -> [moatd ms per message]
        self.hwm = {}		# load name -> VmHWM in kB after the load
        self.cpu = {}		# load name -> [machine CPU ms per message]
        self.own = {}		# load name -> [moatd CPU ms per message]

    def log_size(self):
        return os.path.getsize(self.log) if self.log else 0

    def summaries(self, start):
        """(action, ms) of the summary lines written to LOG from offset start."""
        with open(self.log, "rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
        return [(m.group(1), int(m.group(2)))
                for m in map(SUMMARY.search, text.splitlines()) if m]

    def cpu_ms(self):
        """moatd's CPU time so far (utime + stime), in ms."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000.0 / TICK

    def vm_hwm(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0


def run(sink, inject, mode, count, files, sessions):
    """One run; returns its seconds. Exits on a run that fails or stalls."""
    base = sink.count()
    want = base + count
    cmd = [inject, "-p", str(mode.port), "-n", str(count), "-s", str(sessions)] + files
    t0 = time.monotonic()
    src = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    last, last_t = base, t0
    while True:
        n = sink.count()
        now = time.monotonic()
        if n >= want:
            break
        if n != last:
            last, last_t = n, now
        rc = src.poll()
        if rc not in (None, 0):
            err = src.stderr.read().decode("utf-8", "replace").strip()
            sys.exit("pfbench.py: %s: pfinject failed (exit %d): %s"
                     % (mode.name, rc, err))
        if now - last_t > STALL:
            src.kill()
            sys.exit("pfbench.py: %s: %d of %d messages delivered, none for %d s"
                     % (mode.name, last - base, count, STALL))
        time.sleep(0.005)
    secs = now - t0
    src.wait()
    if src.returncode != 0:
        err = src.stderr.read().decode("utf-8", "replace").strip()
        sys.exit("pfbench.py: %s: pfinject exit %d: %s" % (mode.name, src.returncode, err))
    return secs


def check_summaries(mode, got, count, load):
    bad = [a for a, _ in got if a != "accept"]
    if len(got) != count or bad:
        sys.exit("pfbench.py: %s, %s: moatd logged %d summary lines for %d messages%s"
                 % (mode.name, load, len(got), count,
                    ", actions: %s" % ",".join(sorted(set(bad))) if bad else ""))


def percentile(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    return v[max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sink", required=True)
    ap.add_argument("--inject", required=True, help="the pfinject binary")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=100,
                    help="messages in the unmeasured first run of each mode (0: none)")
    ap.add_argument("--load", action="append", required=True, metavar="NAME:COUNT:GLOB")
    ap.add_argument("--check", action="append", default=[], metavar="NAME:PORT")
    ap.add_argument("--mode", action="append", required=True, metavar="NAME:PORT[:LOG[:PID]]")
    args = ap.parse_args()

    sink = Sink(args.sink)
    checks = [Mode(s) for s in args.check]
    for m in checks:
        m.check = True
    modes = checks + [Mode(s) for s in args.mode]
    base_mode = modes[len(checks)]
    loads = []
    for spec in args.load:
        name, count, pattern = spec.split(":", 2)
        files = sorted(glob.glob(pattern))
        if not files:
            sys.exit("pfbench.py: no file matches %s" % pattern)
        loads.append((name, int(count), files))

    t_all = time.monotonic()
    for load, count, files in loads:
        for m in modes:
            if args.warmup > 0:
                run(sink, args.inject, m, min(args.warmup, count), files, args.sessions)
            m.secs[load], m.ms[load], m.cpu[load], m.own[load] = [], [], [], []
        for r in range(args.rounds):
            order = modes[r % len(modes):] + modes[:r % len(modes)]
            line = []
            for m in order:
                start = m.log_size()
                cpu0, own0 = machine_cpu_ms(), m.cpu_ms() if m.pid else 0
                secs = run(sink, args.inject, m, count, files, args.sessions)
                m.cpu[load].append((machine_cpu_ms() - cpu0) / count)
                if m.pid:
                    m.own[load].append((m.cpu_ms() - own0) / count)
                if m.log:
                    time.sleep(0.05)	# the summary line follows the reply by a hair
                    got = m.summaries(start)
                    check_summaries(m, got, count, load)
                    m.ms[load] += [ms for _, ms in got]
                m.secs[load].append(secs)
                line.append("%s %.2f s" % (m.name, secs))
            print("  %s round %d: %s" % (load, r + 1, ", ".join(line)), flush=True)
        for m in modes:
            if m.pid:
                m.hwm[load] = m.vm_hwm()

    print()
    print("%-6s %-14s %5s %8s %7s %5s %6s %6s %6s  %s" % (
        "load", "mode", "msgs", "median s", "msgs/s", "ratio", "p50 ms", "p99 ms", "RSS MB",
        "CPU ms/msg: all, milter"))
    checks_out = []
    for load, count, _ in loads:
        rate = {m.name: count / statistics.median(m.secs[load]) for m in modes}
        base = rate[base_mode.name]
        for m in modes:
            med = statistics.median(m.secs[load])
            cpu = "%5.2f" % statistics.median(m.cpu[load])
            lat, rss = "%6s %6s" % ("-", "-"), "%6s" % "-"
            if m.log:
                lat = "%6d %6d" % (percentile(m.ms[load], 50), percentile(m.ms[load], 99))
            if m.pid:
                rss = "%6.1f" % (m.hwm[load] / 1024.0)
                cpu += ", %5.2f" % statistics.median(m.own[load])
            print("%-6s %-14s %5d %8.2f %7.0f %5.2f %s %s  %s" % (
                load, m.name, count, med, rate[m.name], rate[m.name] / base, lat, rss, cpu))
        for c in checks:
            slow = [m for m in modes if not m.check and rate[c.name] < 1.5 * rate[m.name]]
            checks_out.append("injector check, %s: %s %.0f msgs/s = %s%s" % (
                load, c.name, rate[c.name],
                ", ".join("%.1fx %s" % (rate[c.name] / rate[m.name], m.name)
                          for m in modes if not m.check),
                " - NOT well above %s: the injector or the sink may be the limit"
                % ", ".join(m.name for m in slow) if slow else ""))
    for line in checks_out:
        print(line)
    print("(%d rounds, %d sessions, %.0f s in all)" % (
        args.rounds, args.sessions, time.monotonic() - t_all))
    return 0


if __name__ == "__main__":
    sys.exit(main())
