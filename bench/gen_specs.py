#!/usr/bin/env python3
"""Writes the benchmark's specs: one Host, one isolated Network and N VirtualMachine specs,
one YAML file per VM (as a repository of VM specs usually is).

    gen_specs.py OUTDIR N [RUNNING]

Each VM: 2 vCPUs, 512 MiB, two file-backed qcow2 disks (paths that need not exist: those
domains are defined, never started), two NICs on the isolated network vmr-bench-net, VGA
video and VNC graphics, an emulated TPM 2.0, a guest-agent unix channel, a serial port and
its console. The serial port and the video device are written out because libvirt adds them
anyway (for the console and the graphics) and the planner would otherwise plan to remove
them (see docs/performance.md).

RUNNING of the N VMs (default 0), spread evenly over the names, are `state: running` and as
small as a TCG guest can be: 1 vCPU, 64 MiB, everything else the same. Their disk images must
exist to start them: their names (one a line) go to OUTDIR/running.txt, and scripts/bench.sh
creates the two qcow2 files of each. The disks are empty and only the root disk has a boot
order, so QEMU boots strictly from it: the firmware finds nothing to boot and waits, without
trying the NICs (no network boot loop burning CPU).
"""
import os
import sys

HOST = """kind: Host
name: bench
uri: qemu:///system
description: benchmark host (the test libvirtd)
"""

NETWORK = """kind: Network
name: vmr-bench-net
host: bench
bridge: vmrbench0
"""

VM = """kind: VirtualMachine
name: {name}
host: bench
description: benchmark domain {i}
domain_type: qemu
vcpus: {vcpus}
memory: {memory}
state: {state}
disks:
  - file: {disk_dir}/{name}-root.qcow2
    format: qcow2
    boot_order: 1
  - file: {disk_dir}/{name}-data.qcow2
    format: qcow2
    cache: none
    discard: unmap
    serial: data-{i:05d}
interfaces:
  - network: vmr-bench-net
    mac: "52:54:00:{a:02x}:{b:02x}:01"
  - network: vmr-bench-net
    mac: "52:54:00:{a:02x}:{b:02x}:02"
videos:
  - model: vga
graphics:
  - type: vnc
    autoport: true
    listen: 127.0.0.1
tpms:
  - model: tpm-crb
    backend: emulator
    version: "2.0"
channels:
  - type: unix
    target_type: virtio
    target_name: org.qemu.guest_agent.0
serials:
  - type: pty
    target_type: isa-serial
consoles:
  - type: pty
    target_type: serial
"""


DISK_DIR = "/var/lib/virtumancer/bench"


def running_indices(n, running):
    """The 1-based indices of the running VMs: `running` of 1..n, evenly spread."""
    running = max(0, min(running, n))
    if running == 0:
        return set()
    step = n // running
    return {1 + k * step for k in range(running)}


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    running = running_indices(n, int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    os.makedirs(os.path.join(out, "vms"), exist_ok=True)
    with open(os.path.join(out, "host.yaml"), "w") as f:
        f.write(HOST)
    with open(os.path.join(out, "network.yaml"), "w") as f:
        f.write(NETWORK)
    names = []
    for i in range(1, n + 1):
        name = "vmr-bench-%05d" % i
        up = i in running
        if up:
            names.append(name)
        with open(os.path.join(out, "vms", name + ".yaml"), "w") as f:
            f.write(VM.format(name=name, i=i, a=i >> 8, b=i & 0xFF, disk_dir=DISK_DIR,
                              vcpus=1 if up else 2, memory="64MiB" if up else "512MiB",
                              state="running" if up else "shutoff"))
    with open(os.path.join(out, "running.txt"), "w") as f:
        f.write("".join(name + "\n" for name in names))


if __name__ == "__main__":
    main()
