#!/usr/bin/env python3
"""layering.py SRC [BUILD] — no dependency cycle crosses a folder of the library.

The folders are those of docs/architecture.md: engine/src/<stage>/, feeds/src/
and engine/include/ecorisk/. Two graphs are checked, each reduced to folders:

  includes  a file's #include "..." lines, resolved as the build resolves them
            (the file's own folder, then engine/src, feeds/src, engine/include);
  symbols   with BUILD: each compiled library object's undefined symbols joined
            to the object that defines them (nm), i.e. who calls whom, which
            also sees the cycles that run through the public headers.

Each folder graph must be acyclic: a cycle (folder A uses B and B uses A,
directly or through others) is printed with the includes or symbols behind
every edge, and the exit status is 1. Cycles inside one folder are allowed.

KNOWN lists the dependencies that close a cycle today, each to be removed by
moving its file: they are left out of the check and printed, so that no new
one can join them unseen.
"""
import os
import re
import subprocess
import sys

SRC = os.path.abspath(sys.argv[1])
BUILD = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
ROOTS = ["engine/src", "feeds/src", "engine/include"]
INCLUDE_DIRS = ["engine/src", "feeds/src", "engine/include"]
# (file, folder it uses): model training (learn.c) reads labelled history
# through the analyst scan and scores it as the run does, while score/ and
# analyst/ use the trained model: learn.c belongs in analyst/.
KNOWN = {("engine/src/model/learn.c", "engine/src/analyst"),
         ("engine/src/model/learn.c", "engine/src/score")}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def library_files():
    for root in ROOTS:
        for d, _, names in os.walk(os.path.join(SRC, root)):
            for n in sorted(names):
                if n.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, n), SRC)


def folder(path):
    return os.path.dirname(path)


def resolve(src, inc):
    for base in [folder(src)] + INCLUDE_DIRS:
        p = os.path.normpath(os.path.join(base, inc))
        if os.path.isfile(os.path.join(SRC, p)):
            return p
    return None


known_seen = set()


def add(edges, src, to, why):
    """An edge from src's folder to to's; a KNOWN one is only noted."""
    if (src, folder(to)) in KNOWN:
        known_seen.add((src, folder(to)))
        return
    edges.setdefault((folder(src), folder(to)), []).append(why)


def include_edges():
    edges = {}
    for f in library_files():
        with open(os.path.join(SRC, f), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            to = resolve(f, inc)
            if to and folder(to) != folder(f):
                add(edges, f, to, "%s includes %s" % (f, to))
    return edges


def nm(obj, *flags):
    out = subprocess.run(["nm", *flags, obj], capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def symbol_edges():
    objdir = os.path.join(BUILD, "CMakeFiles", "ecorisk_obj.dir")
    objs = {}
    for d, _, names in os.walk(objdir):
        for n in names:
            if n.endswith(".c.o"):
                src = os.path.relpath(os.path.join(d, n[:-2]), objdir)
                if os.path.isfile(os.path.join(SRC, src)):   # leave out objects of deleted sources
                    objs[src] = os.path.join(d, n)
    if not objs:
        sys.exit("layering: no library objects under %s (build first)" % objdir)
    defined = {}
    for src, obj in objs.items():
        for line in nm(obj, "--defined-only"):
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBRVW":
                defined[parts[2]] = src
    edges = {}
    for src, obj in objs.items():
        for line in nm(obj, "--undefined-only"):
            sym = line.split()[-1]
            to = defined.get(sym)
            if to and folder(to) != folder(src):
                add(edges, src, to, "%s uses %s (%s)" % (src, sym, to))
    return edges


def cycles(edges):
    """Strongly connected components of more than one folder (Tarjan)."""
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, stack, on, comps = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps


def report(kind, edges):
    bad = cycles(edges)
    for comp in bad:
        print("%s cycle across folders: %s" % (kind, " <-> ".join(comp)))
        for (a, b), why in sorted(edges.items()):
            if a in comp and b in comp:
                print("  %s -> %s:" % (a, b))
                for w in sorted(set(why))[:8]:
                    print("    " + w)
                if len(set(why)) > 8:
                    print("    ... and %d more" % (len(set(why)) - 8))
    return len(bad)


def main():
    inc = include_edges()
    n = report("include", inc)
    folders = {a for a, _ in inc} | {b for _, b in inc}
    msg = "includes: %d folders, %d cross-folder edges" % (len(folders), len(inc))
    if BUILD:
        sym = symbol_edges()
        n += report("symbol", sym)
        msg += "; symbols: %d cross-folder edges" % len(sym)
    for f, d in sorted(known_seen):
        print("known, left out until the file moves: %s -> %s" % (f, d))
    print("layering: %s; %d cycle(s) across folders" % (msg, n))
    return 1 if n else 0


if __name__ == "__main__":
    sys.exit(main())
