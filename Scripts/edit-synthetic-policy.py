#!/usr/bin/env python3
"""Writes a reviewed-change version of a synthetic policy, for the `xen-policy diff` benchmark.

    Scripts/edit-synthetic-policy.py --edits 100 [--seed 1] IN.xml -o OUT.xml

IN is a policy written by generate-synthetic-policy.py. OUT is its update, as a policy author
would write one: Version 1.0 -> 1.1 with FromPolicy naming IN, and, chosen by `random.Random(seed)`:

* EDITS VM labels get other STE types (one type replaced);
* EDITS // 10 VM labels are renamed with `<Name from="...">`;
* EDITS // 10 VM labels are removed and as many new ones (`new_00001` ...) added;
* the first conflict set gains a Chinese Wall type.

Only the standard library is used; the XML is edited as text, line by line, which the generator's
one-element-per-line layout allows.
"""

import argparse
import random
import re


def parse_arguments():
    parser = argparse.ArgumentParser(description="Edit a synthetic ACM policy for the diff benchmark.")
    parser.add_argument("input", help="a policy from generate-synthetic-policy.py")
    parser.add_argument("--edits", type=int, default=100, help="VM labels whose types change (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("-o", "--output", required=True, help="the file to write")
    return parser.parse_args()


def main():
    arguments = parse_arguments()
    rng = random.Random(arguments.seed)
    with open(arguments.input, encoding="utf-8") as f:
        lines = f.read().split("\n")
    name = next(re.search(r"<PolicyName>(.*)</PolicyName>", l).group(1) for l in lines if "<PolicyName>" in l)
    ste_types = [re.search(r"<Type>(ste_\d+)</Type>", l).group(1) for l in lines
                 if re.search(r"^      <Type>ste_\d+</Type>$", l)]
    cw_types = [re.search(r"<Type>(cw_\d+)</Type>", l).group(1) for l in lines
                if re.search(r"^      <Type>cw_\d+</Type>$", l)]

    # Each VM label is the block from <VirtualMachineLabel> to </VirtualMachineLabel>.
    starts = [i for i, l in enumerate(lines) if l.strip() == "<VirtualMachineLabel>"]
    ordinary = [i for i in starts if "SystemManagement" not in lines[i + 1]]
    chosen = rng.sample(ordinary, min(len(ordinary), arguments.edits + 2 * (arguments.edits // 10)))
    retyped = chosen[:arguments.edits]
    renamed = chosen[arguments.edits:arguments.edits + arguments.edits // 10]
    removed = set(chosen[arguments.edits + arguments.edits // 10:])

    for i in retyped:
        j = next(k for k in range(i, len(lines)) if "<Type>ste_" in lines[k])
        lines[j] = re.sub(r"ste_\d+", rng.choice(ste_types), lines[j])
    for i in renamed:
        old = re.search(r"<Name>(.*)</Name>", lines[i + 1]).group(1)
        lines[i + 1] = lines[i + 1].replace(f"<Name>{old}</Name>", f'<Name from="{old}">{old}_renamed</Name>')

    out = []
    skipping = False
    added = 0
    for i, line in enumerate(lines):
        if i in removed:
            skipping = True
        if not skipping:
            out.append(line)
        if skipping and line.strip() == "</VirtualMachineLabel>":
            skipping = False
            added += 1
            out += ["      <VirtualMachineLabel>", f"        <Name>new_{added:05d}</Name>",
                    "        <SimpleTypeEnforcementTypes>", f"          <Type>{rng.choice(ste_types)}</Type>",
                    "        </SimpleTypeEnforcementTypes>", "        <ChineseWallTypes>",
                    f"          <Type>{rng.choice(cw_types)}</Type>", "        </ChineseWallTypes>",
                    "      </VirtualMachineLabel>"]
    text = "\n".join(out)
    text = text.replace("    <Version>1.0</Version>\n",
                        "    <Version>1.1</Version>\n    <FromPolicy>\n"
                        f"      <PolicyName>{name}</PolicyName>\n      <Version>1.0</Version>\n    </FromPolicy>\n", 1)
    # The first conflict set gains a type it does not have yet.
    first = re.search(r'(<Conflict name="conflict_01">\n)((?:        <Type>.*</Type>\n)+)', text)
    if first and cw_types:
        members = re.findall(r"<Type>(.*)</Type>", first.group(2))
        extra = next((t for t in cw_types if t not in members), None)
        if extra:
            text = text.replace(first.group(0), first.group(0) + f"        <Type>{extra}</Type>\n", 1)
    with open(arguments.output, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
