#!/usr/bin/env python3
"""Prints the benchmark's figures from scripts/bench.sh's results.tsv: the median of the
repeated runs per (N, step), the ratios plan/floor, the growth from the smallest N to the
largest, the issue 7 targets (met / MISSED), and, when the PostgreSQL part ran, the ratios
PostgreSQL/SQLite of load, plan and drift with issue 14's targets.

    report.py RESULTS.tsv MACHINE.txt
"""
import csv
import statistics
import sys


def main():
    rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
    machine = dict(
        line.rstrip("\n").split("=", 1) for line in open(sys.argv[2]) if "=" in line
    )
    fig = {}  # (n, step) -> dict of medians
    for (n, step) in sorted({(int(r["n"]), r["step"]) for r in rows}):
        rs = [r for r in rows if int(r["n"]) == n and r["step"] == step]
        med = lambda k: statistics.median(float(r[k]) for r in rs)
        fig[(n, step)] = {
            "runs": len(rs),
            "wall": med("wall_s"),
            "cpu": med("cpu_s"),
            "rss": med("rss_kib") / 1024.0,
            "lv": med("libvirtd_cpu_s"),
            "pg": med("pg_cpu_s") if "pg_cpu_s" in rs[0] else 0.0,
            "changed": sum(1 for r in rs if r["rc"] == "2" and step == "plan"),
        }
    sizes = sorted({n for n, _ in fig})
    print()
    print("machine: %s cores, %s MiB RAM, %s" % (machine.get("nproc"), machine.get("mem_mib"),
                                                 machine.get("cpu")))
    print("libvirt %s, %s; commit %s; %s" % (machine.get("libvirt"), machine.get("hypervisor"),
                                             machine.get("commit"), machine.get("date")))
    print("PostgreSQL: %s" % machine.get("postgresql", "not measured"))
    print("load average at start %s, at end %s" % (machine.get("load_start"),
                                                     machine.get("load_end")))
    for n in sorted({n for n, _ in fig}):
        if "running_%d" % n in machine:
            print("N=%d: %s domains running (1 vCPU, 64 MiB, TCG), using %s cores on average "
                  "while plan/floor/drift ran" % (n, machine["running_%d" % n],
                                                  machine.get("guest_cores_%d" % n, "?")))
    print()
    print("| N | step | runs | wall s (median) | CPU s user+sys | peak RSS MiB | libvirtd CPU s "
          "| PostgreSQL server CPU s |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    order = ["migrate_pg", "load_empty", "load_empty_pg", "load_nochange", "load_nochange_pg", "apply_define",
             "plan", "plan_pg", "floor", "drift", "drift_pg"]
    for n in sizes:
        for step in order:
            f = fig.get((n, step))
            if f:
                note = " (%d of them reported changes: exit 2)" % f["changed"] if f["changed"] else ""
                print("| %d | %s%s | %d | %.2f | %.2f | %.1f | %.2f | %s |" % (
                    n, step, note, f["runs"], f["wall"], f["cpu"], f["rss"], f["lv"],
                    "%.2f" % f["pg"] if step.endswith("_pg") else "-"))
    print()
    for n in sizes:
        p, fl = fig.get((n, "plan")), fig.get((n, "floor"))
        if p and fl:
            print("N=%d: plan/floor wall %.2fx, CPU %.2fx, RSS %.2fx; drift/floor wall %.2fx" % (
                n, p["wall"] / fl["wall"], p["cpu"] / max(fl["cpu"], 0.01),
                p["rss"] / fl["rss"], fig[(n, "drift")]["wall"] / fl["wall"]))
    if len(sizes) > 1:
        a, b = sizes[0], sizes[-1]
        print("growth %d -> %d (%.0fx domains), wall time ratio:" % (a, b, b / a))
        for step in ["plan", "floor", "drift", "load_empty", "load_nochange"]:
            if (a, step) in fig and (b, step) in fig:
                print("  %-14s %.2fx (CPU %.2fx)" % (
                    step, fig[(b, step)]["wall"] / fig[(a, step)]["wall"],
                    fig[(b, step)]["cpu"] / max(fig[(a, step)]["cpu"], 0.01)))
    pg_checks = []
    if any(step.endswith("_pg") for _, step in fig):
        print()
        print("PostgreSQL / SQLite (medians; wall and client CPU):")
        for n in sizes:
            for step in ["load_empty", "load_nochange", "plan", "drift"]:
                a, b = fig.get((n, step)), fig.get((n, step + "_pg"))
                if not (a and b):
                    continue
                print("  N=%-6d %-14s %.2f s vs %.2f s: wall %.2fx, client CPU %.2fx" % (
                    n, step, b["wall"], a["wall"], b["wall"] / a["wall"],
                    b["cpu"] / max(a["cpu"], 0.01)))
                if step in ("load_empty", "plan"):
                    r = b["wall"] / a["wall"]
                    pg_checks.append(("%s on PostgreSQL <= 1.5x SQLite at %d" % (
                        "load" if step == "load_empty" else "plan", n), "%.2fx" % r, r <= 1.5))
    else:
        print()
        print("PostgreSQL: not measured (no server; see the log)")
    print()
    print("targets (issue 7):")
    checks = []
    if (1000, "plan") in fig:
        p, fl = fig[(1000, "plan")]["wall"], fig[(1000, "floor")]["wall"]
        checks.append(("plan at 1,000 <= serial floor", "%.2f s vs %.2f s" % (p, fl), p <= fl))
    if (1000, "plan") in fig and (10000, "plan") in fig:
        g = fig[(10000, "plan")]["wall"] / fig[(1000, "plan")]["wall"]
        checks.append(("plan 10,000 <= 11x plan 1,000", "%.2fx" % g, g <= 11))
    if (10000, "plan") in fig:
        r = max(fig[(10000, s)]["rss"] for s in ("plan", "drift"))
        checks.append(("peak RSS at 10,000 < 150 MiB (plan, drift)", "%.1f MiB" % r, r < 150))
    if (10000, "load_empty") in fig:
        t = fig[(10000, "load_empty")]["wall"]
        checks.append(("load of 10,000 specs < 3 s", "%.2f s" % t, t < 3))
        t = fig[(10000, "load_nochange")]["wall"]
        checks.append(("no-change re-load of 10,000 < 0.3 s", "%.2f s" % t, t < 0.3))
    for what, val, ok in checks:
        print("  %-45s %-22s %s" % (what, val, "met" if ok else "MISSED"))
    if pg_checks:
        print("targets (issue 14, wall time):")
        for what, val, ok in pg_checks:
            print("  %-45s %-22s %s" % (what, val, "met" if ok else "MISSED"))


if __name__ == "__main__":
    main()
