"""heap_sites.py — summarise heaptrack_print output per participant.

Used by scripts/bench-mem: reads the text of `heaptrack_print --print-leaks 1
--print-peaks 1`, divides each allocation site's bytes by N and prints the
largest sites, first for the heap live when the bridge was killed (the
"leaks" section: the bridge is stopped with SIGKILL, so nothing was freed)
then for the heap's peak. A site is shown by its first named frames.

    python3 scripts/heap_sites.py PRINT.txt N TOP
"""
import re
import sys

UNIT = {"B": 1, "K": 1e3, "M": 1e6, "G": 1e9}


def size(s):
    m = re.match(r"([\d.]+)([BKMG])", s)
    return float(m.group(1)) * UNIT[m.group(2)] if m else 0.0


def sites(lines, header, verb):
    """(bytes, frames) of every site under the section titled header."""
    try:
        i = lines.index(header) + 1
    except ValueError:
        return []
    out = []
    head = re.compile(r"^(\S+) %s over (\d+) calls from" % verb)
    while i < len(lines) and not (lines[i].isupper() and lines[i].strip()):
        m = head.match(lines[i])
        if not m:
            i += 1
            continue
        frames, j = [], i + 1
        while j < len(lines) and lines[j].strip() and not head.match(lines[j]):
            t = lines[j].strip()
            if not t.startswith("in ") and not t.startswith("at "):
                frames.append(t)
            j += 1
        named = [f for f in frames if not f.startswith("0x")] or frames
        out.append((size(m.group(1)), " <- ".join(named[:4])))
        i = j
    out.sort(key=lambda s: -s[0])
    return out


def main():
    path, n, top = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    lines = open(path).read().splitlines()
    totals = {}
    for l in lines:
        for key, pat in (("live", r"total memory leaked: (\S+)"),
                         ("peak", r"peak heap memory consumption: (\S+)")):
            m = re.match(pat, l)
            if m:
                totals[key] = size(m.group(1))
    for key, title, header, verb in (
            ("live", "heap live when stopped", "MEMORY LEAKS", "leaked"),
            ("peak", "peak heap", "PEAK MEMORY CONSUMERS", "peak memory consumed")):
        print("%s: %.1f KiB per participant (N=%d)" % (title, totals.get(key, 0) / 1024 / n, n))
        for b, f in sites(lines, header, verb)[:top]:
            print("%8.2f  %s" % (b / 1024 / n, f[:200]))
        print()


if __name__ == "__main__":
    main()
