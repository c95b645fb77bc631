#!/usr/bin/env python3
"""Writes a synthetic, deterministic Xen ACM policy (format G3b/G4) for the scale benchmark.

    Scripts/generate-synthetic-policy.py --labels 10000 --types 1000 [--seed 1] -o policy.xml

The policy is valid against Grammar/acm/acm-g3b.xsd and compiles with `xen-policyc compile`
(default target xen-4.1). With N labels and T types it holds (see docs/benchmarks.md):

* T Simple Type Enforcement types: `SystemManagement` and `ste_0001` ... ;
* C = max(2, T // 20) Chinese Wall types: `SystemManagement` and `cw_001` ... ;
* min(10, max(1, (C - 1) // 5)) conflict sets `conflict_01` ... of 2-5 Chinese Wall types each
  (never `SystemManagement`);
* N VM labels: the bootstrap label `SystemManagement` with every STE type and the Chinese Wall
  type `SystemManagement`, and N-1 labels `vm_00001` ... with 1-5 STE types and 1-2 Chinese Wall
  types each;
* R = max(1, N // 10) resource labels `res_0001` ... with exactly one STE type each.

So the blob (xen-4.1) is about 2 * T * (1 + N + R) bytes of STE matrix plus 2 * C * (1 + N) bytes
of Chinese Wall matrix: with the defaults of the benchmark (N = 10,000, T = 1,000) 22.0 MB + 1.0 MB
= 23.0 MB (21.9 MiB).

Labels are written in a shuffled order (the compiler sorts them), and every choice comes from a
`random.Random(seed)`, so the same arguments always give the same bytes. Names are ASCII, without
whitespace or ':'. Only the standard library is used.
"""

import argparse
import os
import random
import sys


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        description="Write a synthetic G3b/G4 ACM policy for benchmarking xen-policyc.")
    parser.add_argument("--labels", type=positive, default=10000,
                        help="number of VM labels, including the bootstrap label (default 10000)")
    parser.add_argument("--types", type=positive, default=1000,
                        help="number of STE types, including SystemManagement (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--name", default=None, help="PolicyName (default synthetic-N-T)")
    parser.add_argument("-o", "--output", required=True, help="the file to write ('-' for stdout)")
    arguments = parser.parse_args(argv)
    if arguments.types < 2:
        parser.error("--types must be at least 2 (SystemManagement and one more)")
    name = arguments.name or f"synthetic-{arguments.labels}-{arguments.types}"
    if any(c.isspace() or c == ":" or ord(c) > 127 for c in name) or not name:
        parser.error("--name must be non-empty ASCII without whitespace or ':'")
    arguments.name = name
    return arguments


def width(count):
    return max(len(str(count)), 1)


def generate(labels, types, seed, name):
    """Yields the lines of the policy."""
    rng = random.Random(seed)
    chinese_wall_count = max(2, types // 20)
    resource_count = max(1, labels // 10)

    ste_types = ["SystemManagement"] + [
        f"ste_{i:0{width(types - 1)}d}" for i in range(1, types)]
    cw_types = ["SystemManagement"] + [
        f"cw_{i:0{width(chinese_wall_count - 1)}d}" for i in range(1, chinese_wall_count)]
    ordinary_ste = ste_types[1:]
    ordinary_cw = cw_types[1:]

    yield '<?xml version="1.0" encoding="UTF-8"?>'
    yield ('<SecurityPolicyDefinition xmlns="http://www.ibm.com" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:schemaLocation="http://www.ibm.com ../../security_policy.xsd">')
    yield "  <PolicyHeader>"
    yield f"    <PolicyName>{name}</PolicyName>"
    yield "    <Version>1.0</Version>"
    yield "  </PolicyHeader>"

    yield "  <SimpleTypeEnforcement>"
    yield "    <SimpleTypeEnforcementTypes>"
    for t in ste_types:
        yield f"      <Type>{t}</Type>"
    yield "    </SimpleTypeEnforcementTypes>"
    yield "  </SimpleTypeEnforcement>"

    yield '  <ChineseWall priority="PrimaryPolicyComponent">'
    yield "    <ChineseWallTypes>"
    for t in cw_types:
        yield f"      <Type>{t}</Type>"
    yield "    </ChineseWallTypes>"
    # A handful of conflict sets among the ordinary Chinese Wall types.
    if len(ordinary_cw) >= 2:
        set_count = max(1, min(10, len(ordinary_cw) // 5))
        yield "    <ConflictSets>"
        for i in range(1, set_count + 1):
            members = rng.sample(ordinary_cw, rng.randint(2, min(5, len(ordinary_cw))))
            yield f'      <Conflict name="conflict_{i:02d}">'
            for t in members:
                yield f"        <Type>{t}</Type>"
            yield "      </Conflict>"
        yield "    </ConflictSets>"
    yield "  </ChineseWall>"

    yield "  <SecurityLabelTemplate>"
    yield '    <SubjectLabels bootstrap="SystemManagement">'
    vm_labels = [("SystemManagement", ste_types, ["SystemManagement"])]
    vm_width = width(labels - 1)
    others = []
    for i in range(1, labels):
        ste = rng.sample(ordinary_ste, rng.randint(1, min(5, len(ordinary_ste))))
        cw = rng.sample(ordinary_cw, rng.randint(1, min(2, len(ordinary_cw))))
        others.append((f"vm_{i:0{vm_width}d}", ste, cw))
    rng.shuffle(others)
    for label_name, ste, cw in vm_labels + others:
        yield "      <VirtualMachineLabel>"
        yield f"        <Name>{label_name}</Name>"
        yield "        <SimpleTypeEnforcementTypes>"
        for t in ste:
            yield f"          <Type>{t}</Type>"
        yield "        </SimpleTypeEnforcementTypes>"
        yield "        <ChineseWallTypes>"
        for t in cw:
            yield f"          <Type>{t}</Type>"
        yield "        </ChineseWallTypes>"
        yield "      </VirtualMachineLabel>"
    yield "    </SubjectLabels>"

    yield "    <ObjectLabels>"
    resources = [(f"res_{i:0{width(resource_count)}d}", rng.choice(ordinary_ste))
                 for i in range(1, resource_count + 1)]
    rng.shuffle(resources)
    for label_name, t in resources:
        yield "      <ResourceLabel>"
        yield f"        <Name>{label_name}</Name>"
        yield "        <SimpleTypeEnforcementTypes>"
        yield f"          <Type>{t}</Type>"
        yield "        </SimpleTypeEnforcementTypes>"
        yield "      </ResourceLabel>"
    yield "    </ObjectLabels>"
    yield "  </SecurityLabelTemplate>"
    yield "</SecurityPolicyDefinition>"


def main(argv):
    arguments = parse_arguments(argv)
    text = "\n".join(generate(arguments.labels, arguments.types, arguments.seed, arguments.name)) + "\n"
    data = text.encode("ascii")
    if arguments.output == "-":
        sys.stdout.buffer.write(data)
        return 0
    # Write beside the target and rename, so an interrupted run leaves no half file.
    temporary = f"{arguments.output}.tmp-{os.getpid()}"
    with open(temporary, "wb") as out:
        out.write(data)
    os.replace(temporary, arguments.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
