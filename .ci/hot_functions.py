#!/usr/bin/env python3
"""The functions a dotlink run executes, placed together at the start of the shipped binary.

A short run executes some 800 of the binary's 11,000 functions, spread over nearly all of its
3.4 MB of code. The kernel maps code 64 KiB at a time around each page a run touches, so a run
had almost all of it resident (3 MiB of a 10.5 MiB `status` at 10,000 links) and took a page
fault for each 64 KiB. Linked first, in one piece (`lld --symbol-ordering-file`), they take
about 0.7 MB.

`.ci/hot-functions.txt` lists their symbols. A symbol's name carries a hash that changes with
the toolchain and the dependencies, not with the code: where a listed name is not in the
binary, the symbols of the same name without the hash are placed instead (every instance of a
generic function, more than is needed). A function the list does not name is only placed as
before, so a list recorded before a change still serves; `record` makes it anew.

  record BINARY            run BINARY under callgrind on generated trees (valgrind needed) and
                           print the symbols of the functions it executed, one per line
  order BINARY LIST OUT    write to OUT the symbols of BINARY that LIST names, in LIST's order,
                           for `--symbol-ordering-file` (used by .ci/build-release)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HASH = re.compile(r"17h[0-9a-f]{16}E$")
# A v0 crate root's disambiguator (`Cs<base-62>_`) changes with the crate's metadata.
V0_CRATE = re.compile(r"Cs[0-9A-Za-z]*_")


def key(symbol):
    """`symbol` without what changes from build to build of the same code."""
    if symbol.startswith("_ZN"):
        return HASH.sub("17h", symbol)
    if symbol.startswith("_R"):
        return V0_CRATE.sub("Cs_", symbol)
    return symbol


def order(binary, listed, out):
    """Each listed function's symbol in `binary` by its exact name; where none of a name's
    symbols is there (the list was recorded with another toolchain or other dependencies),
    every symbol of the same name without its hash."""
    rank = {}
    with open(listed) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                rank.setdefault(line, len(rank))
    by_key = {}
    for name, r in rank.items():
        by_key.setdefault(key(name), r)
    nm = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True,
                        check=True).stdout
    symbols = [parts[2] for parts in map(str.split, nm.splitlines())
               if len(parts) == 3 and parts[1] in "tTwWiI"]
    exact = {key(symbol) for symbol in symbols if symbol in rank}
    found = []
    for symbol in symbols:
        if symbol in rank:
            found.append((rank[symbol], symbol))
        elif key(symbol) in by_key and key(symbol) not in exact:
            found.append((by_key[key(symbol)], symbol))
    found.sort()
    with open(out, "w") as f:
        f.writelines(symbol + "\n" for _, symbol in found)
    print(f"{len(exact)} of the {len(by_key)} functions .ci/hot-functions.txt names were found "
          f"by their exact names; {len(found)} symbols are placed first", file=sys.stderr)


def record(binary):
    """Run `binary` the ways users run it most, on a typical repository and a larger tree."""
    # The runs happen in the trees, so a relative path would name nothing there.
    binary = os.path.abspath(binary)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
    import bench

    names = {}
    root = tempfile.mkdtemp(prefix="dotlink-hot-")
    try:
        typical = bench.Workspace(os.path.join(root, "typical"))
        for pkg, files in bench.TYPICAL.items():
            for rel in files:
                path = os.path.join(typical.repo, pkg, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as fh:
                    fh.write(f"# {pkg}/{rel}\n")
        with open(os.path.join(typical.repo, "dotlink.toml"), "w") as fh:
            fh.write(bench.TYPICAL_MANIFEST)
        large = bench.Workspace(os.path.join(root, "large"))
        packages, files = bench.generate_tree(large.repo, 10000)
        bench.Dotlink(binary).write_config(large, packages, files)
        # `status`, which prompts, scripts and `bench/run` run most, first; then what a first
        # apply (which sets each tree up), a no-op one and one after sources were added and
        # removed execute besides. Placed after, the functions of `apply` cost a `status` at
        # 10,000 links about 0.1 MiB, and save a first apply 0.9 MiB and a no-op apply 0.3 MiB,
        # which had most of the binary resident.
        runs = [["apply"], ["status"], ["--color", "never", "status"], ["apply"], ["apply"]]
        tiers = {("status",): 0, ("--color", "never", "status"): 1}
        seen = ([], [], [])
        for ws in (typical, large):
            os.makedirs(ws.env()["TMPDIR"], exist_ok=True)
            for n, args in enumerate(runs):
                if n == len(runs) - 1:
                    if ws is typical:
                        continue
                    removed, added = bench.plan_mutation(packages, files, len(files))
                    bench.apply_mutation(large.pkgroot, removed, added)
                out = os.path.join(root, f"callgrind.{n}")
                quiet = ["-q"] if args[-1] == "apply" or args == ["status"] else []
                subprocess.run(["valgrind", "--tool=callgrind", "--demangle=no",
                                f"--callgrind-out-file={out}", binary, *quiet, *args],
                               env=ws.env(), cwd=ws.repo, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                with open(out) as f:
                    for line in f:
                        m = re.match(r"c?fn=\(\d+\) (.+)$", line)
                        if m:
                            name = re.sub(r"'\d+$", "", m.group(1))
                            if not name.startswith(("0x", "(")):
                                seen[tiers.get(tuple(args), 2)].append(name)
        for name in seen[0] + seen[1] + seen[2]:
            names.setdefault(name, None)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for name in names:
        print(name)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "record":
        record(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "order":
        order(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
