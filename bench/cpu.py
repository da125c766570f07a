#!/usr/bin/env python3
"""CPU time so far, in seconds, of each named process, of every PostgreSQL process, and of the whole
machine (busy time of all cores): `cpu.py intake=PID triage=PID ... > snapshot.json`. Two snapshots
around a run give the cores each part used (bench/report.py)."""
import json, os, sys

TICK = os.sysconf("SC_CLK_TCK")

def read(path):
    try:
        return open(path).read()
    except OSError:  # the process ended between listing and reading
        return ""

def process_seconds(pid):
    fields = read(f"/proc/{pid}/stat").rsplit(")", 1)[-1].split()
    return (int(fields[11]) + int(fields[12])) / TICK if len(fields) > 12 else 0.0  # utime + stime

snapshot = {name: process_seconds(pid) for name, pid in (arg.split("=", 1) for arg in sys.argv[1:])}
postgres = [pid for pid in os.listdir("/proc") if pid.isdigit() and read(f"/proc/{pid}/comm").strip() == "postgres"]
snapshot["postgres"] = sum(process_seconds(pid) for pid in postgres)
user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in open("/proc/stat").readline().split()[1:9])
snapshot["machine"] = (user + nice + system + irq + softirq + steal) / TICK
snapshot["wall"] = float(open("/proc/uptime").read().split()[0])
json.dump(snapshot, sys.stdout)
