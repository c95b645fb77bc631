#!/usr/bin/env python3
"""Writes a synthetic oxenstored access log for the replay benchmark (docs/benchmarks.md, "replay").

    Scripts/generate-trace.py --messages 1000000 [--live 2000] [--seed 1] -o trace.log

Many device instances live at once (vbd with a dom0 backend, vif with a driver-domain backend),
each going through the real handshakes of the protocol reference (§1.4-§1.6): the toolstack
creates both directories in one transaction, the backend probes and waits, the hotplug script
publishes the device, the frontend publishes its rings, both connect, some resize or reconnect,
and the toolstack unplugs and removes the directories. Their messages are interleaved at random,
with unrelated traffic (guest keys outside any device, watches) in between. The trace is clean
against Examples/protocols: every instance follows its protocol and no expectation expires (the
clock advances 50 microseconds per line, so a lifecycle lasts seconds, not tens of seconds).
Everything comes from random.Random(seed): the same arguments give the same bytes.
"""
import argparse
import random
import sys

T0_SECONDS = 1795773600  # 2026-11-27T10:00:00Z


class Clock:
    def __init__(self, step_us):
        self.us = 0
        self.step = step_us
        self.cached_second = -1
        self.prefix = ""

    def stamp(self):
        self.us += self.step
        second = self.us // 1_000_000
        if second != self.cached_second:
            self.cached_second = second
            total = T0_SECONDS + second
            days, rest = divmod(total, 86400)
            # 2026-11-27 is day 20784 since the epoch; the benchmark stays within a few days.
            day = 27 + days - 20784
            self.prefix = "[202611%02dT%02d:%02d:%02d" % (day, rest // 3600, rest // 60 % 60, rest % 60)
        return "%s.%03dZ]" % (self.prefix, self.us // 1000 % 1000)


def line(clock, conn, op, data):
    if not data:
        return ("%s  %-12s %s" % (clock.stamp(), conn, op)) + "\n"
    return "%s  %-12s %-9s %s\n" % (clock.stamp(), conn, op, data)


def vbd_script(fe, devid, reconnect, resize):
    """The messages of one vbd lifecycle: (connection, op, data) triples."""
    F = "/local/domain/%d/device/vbd/%d" % (fe, devid)
    B = "/local/domain/0/backend/vbd/%d/%d" % (fe, devid)
    t = "A1.%d" % (fe * 16 + devid % 16 + 1)
    ops = [
        (t, "rm", F), (t, "rm", B), (t, "mkdir", F), (t, "setperms", "%s n%d r0 " % (F, fe)), (t, "mkdir", B),
        (t, "setperms", "%s n0 r%d " % (B, fe)), (t, "write", B + "/frontend " + F), (t, "write", F + "/backend " + B),
        (t, "write", F + "/backend-id 0"), (t, "write", F + "/virtual-device %d" % devid), (t, "write", F + "/device-type disk"),
        (t, "write", F + "/state 1"), (t, "write", B + "/frontend-id %d" % fe), (t, "write", B + "/online 1"),
        (t, "write", B + "/removable 0"), (t, "write", B + "/bootable 1"), (t, "write", B + "/state 1"),
        (t, "write", B + "/dev xvda"), (t, "write", B + "/type phy"), (t, "write", B + "/mode w"),
        (t, "write", B + "/device-type disk"), (t, "write", B + "/params /dev/vg0/guest%d-%d" % (fe, devid)),
        (t, "write", B + "/script /etc/xen/scripts/block"), (t, "write", B + "/discard-enable 1"), (t, "commit", ""),
        ("D%d" % fe, "watch", F + "/backend fe "),
        ("D0", "write", B + "/feature-max-indirect-segments 256"), ("D0", "write", B + "/max-ring-page-order 4"),
        ("D0", "write", B + "/multi-queue-max-queues 4"), ("D0", "watch", B + "/physical-device be "),
        ("D0", "write", B + "/state 2"),
        ("A2", "write", B + "/physical-device fd:%x" % (devid % 256)), ("A2", "write", B + "/physical-device-path /dev/dm-3"),
        ("A2", "write", B + "/hotplug-status connected"),
    ]

    def connect(tid):
        d = "D%d.%d" % (fe, tid)
        b = "D0.%d" % (tid + 1)
        return [
            (d, "write", F + "/ring-page-order 1"), (d, "write", F + "/ring-ref0 %d" % (8 + tid)),
            (d, "write", F + "/ring-ref1 %d" % (9 + tid)), (d, "write", F + "/event-channel 17"),
            (d, "write", F + "/protocol x86_64-abi"), (d, "write", F + "/feature-persistent 1"), (d, "commit", ""),
            ("D%d" % fe, "write", F + "/state 3"),
            (b, "write", B + "/feature-flush-cache 1"), (b, "write", B + "/feature-discard 0"),
            (b, "write", B + "/feature-persistent 1"), (b, "write", B + "/sectors 41943040"), (b, "write", B + "/info 0"),
            (b, "write", B + "/sector-size 512"), (b, "write", B + "/physical-sector-size 512"), (b, "commit", ""),
            ("D0", "write", B + "/state 4"), ("D%d" % fe, "write", F + "/state 4"),
        ]

    ops += connect(3)
    if resize:
        ops += [("D0", "write", B + "/sectors 83886080"), ("D0", "write", B + "/state 4")]
    if reconnect:
        ops += [
            ("D%d" % fe, "write", F + "/state 5"), ("D0", "write", B + "/state 5"), ("D%d" % fe, "write", F + "/state 6"),
            ("D0", "write", B + "/state 6"), ("D%d" % fe, "write", F + "/state 1"), ("D0", "write", B + "/state 2"),
        ]
        ops += connect(5)
    u = "A1.%d" % (fe * 16 + devid % 16 + 2)
    ops += [
        (u, "write", B + "/online 0"), (u, "write", B + "/state 5"), (u, "commit", ""),
        ("D%d" % fe, "write", F + "/state 6"), ("D0", "write", B + "/state 6"), ("A1", "rm", F), ("A1", "rm", B),
    ]
    return ops


def vif_script(fe, devid, backend):
    F = "/local/domain/%d/device/vif/%d" % (fe, devid)
    B = "/local/domain/%d/backend/vif/%d/%d" % (backend, fe, devid)
    t = "A1.%d" % (fe * 16 + devid % 16 + 3)
    mac = "00:16:3e:%02x:%02x:%02x" % (fe // 256 % 256, fe % 256, devid % 256)
    be = "D%d" % backend
    fr = "D%d" % fe
    ops = [
        (t, "rm", F), (t, "rm", B), (t, "mkdir", F), (t, "setperms", "%s n%d r%d " % (F, fe, backend)), (t, "mkdir", B),
        (t, "setperms", "%s n%d r%d " % (B, backend, fe)), (t, "write", B + "/frontend " + F), (t, "write", F + "/backend " + B),
        (t, "write", F + "/backend-id %d" % backend), (t, "write", F + "/handle %d" % devid), (t, "write", F + "/mac " + mac),
        (t, "write", F + "/state 1"), (t, "write", F + "/mtu 1500"), (t, "write", B + "/frontend-id %d" % fe),
        (t, "write", B + "/online 1"), (t, "write", B + "/state 1"), (t, "write", B + "/script /etc/xen/scripts/vif-bridge"),
        (t, "write", B + "/mac " + mac), (t, "write", B + "/handle %d" % devid), (t, "write", B + "/type vif"),
        (t, "write", B + "/bridge xenbr0"), (t, "write", B + "/hotplug-status "), (t, "commit", ""),
    ]
    bt = be + ".2"
    for key, value in [("feature-sg", "1"), ("feature-gso-tcpv4", "1"), ("feature-rx-copy", "1"), ("feature-rx-flip", "0"),
                       ("feature-split-event-channels", "1"), ("multi-queue-max-queues", "2"), ("feature-ctrl-ring", "1")]:
        ops.append((bt, "write", "%s/%s %s" % (B, key, value)))
    ops += [(bt, "commit", ""), (be, "write", B + "/state 2"), (be, "write", B + "/hotplug-status connected")]
    ft = fr + ".11"
    for key, value in [("tx-ring-ref", "1280"), ("rx-ring-ref", "1281"), ("event-channel-tx", "20"), ("event-channel-rx", "21"),
                       ("request-rx-copy", "1"), ("feature-rx-notify", "1"), ("feature-sg", "1"), ("feature-gso-tcpv4", "1")]:
        ops.append((ft, "write", "%s/%s %s" % (F, key, value)))
    ops += [(ft, "commit", ""), (fr, "write", F + "/state 4"), (be, "write", B + "/state 4")]
    u = "A1.%d" % (fe * 16 + devid % 16 + 4)
    ops += [
        (u, "write", B + "/online 0"), (u, "write", B + "/state 5"), (u, "commit", ""), (fr, "write", F + "/state 6"),
        (be, "write", B + "/state 6"), ("A1", "rm", F), ("A1", "rm", B),
    ]
    return ops


def noise(rng, fe):
    choice = rng.random()
    if choice < 0.5:
        return ("D%d" % fe, "write", "/local/domain/%d/data/counter %d" % (fe, rng.randrange(1 << 20)))
    if choice < 0.8:
        return ("D%d" % fe, "watch", "/local/domain/%d/control/shutdown ctl " % fe)
    return ("A1", "write", "/vm/%08x-0000-4000-8000-%012x/memory/target %d" % (fe, fe, rng.randrange(1 << 22)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000, help="lines to write (default 1,000,000)")
    parser.add_argument("--live", type=int, default=2000, help="instances alive at once (default 2,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--step-us", type=int, default=50, help="trace time between lines, microseconds (default 50)")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    clock = Clock(args.step_us)
    live = []  # [script, position]
    used = set()
    serial = 0
    written = 0
    out = open(args.output, "w", buffering=1 << 20)

    def start():
        nonlocal serial
        while True:
            serial += 1
            fe = 1 + serial % 30000
            kind = "vif" if serial % 10 < 3 else "vbd"
            devid = (51712 + 16 * (serial // 30000 % 16)) if kind == "vbd" else serial // 30000 % 8
            if (kind, fe, devid) not in used:
                break
        used.add((kind, fe, devid))
        if kind == "vbd":
            script = vbd_script(fe, devid, reconnect=rng.random() < 0.2, resize=rng.random() < 0.2)
        else:
            script = vif_script(fe, devid, backend=1 + fe % 4 + 30000)
        live.append([script, 0, (kind, fe, devid)])

    while written < args.messages:
        while len(live) < args.live:
            start()
        if rng.random() < 0.1:
            conn, op, data = noise(rng, 1 + rng.randrange(30000))
        else:
            index = rng.randrange(len(live))
            entry = live[index]
            conn, op, data = entry[0][entry[1]]
            entry[1] += 1
            if entry[1] == len(entry[0]):
                used.discard(entry[2])
                live[index] = live[-1]
                live.pop()
        out.write(line(clock, conn, op, data))
        written += 1
    out.close()


if __name__ == "__main__":
    main()
