#!/usr/bin/env python3
"""Write a gzip'ed initramfs ("newc" cpio) from a file list, without root.

    mkcpio.py LIST OUT.cpio.gz

LIST has one entry per line:  dir PATH MODE | file PATH SRC MODE |
nod PATH MODE c|b MAJOR MINOR | slink PATH TARGET MODE.  Owners are root,
times zero, so the same inputs give the same bytes.
"""
import gzip
import stat
import sys


def entry(out, ino, name, mode, data=b"", rdev=(0, 0)):
    name = name.lstrip("/").encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name), 0]
    out.write(b"070701" + b"".join(b"%08X" % f for f in fields) + name)
    out.write(b"\0" * (-(110 + len(name)) % 4))
    out.write(data)
    out.write(b"\0" * (-len(data) % 4))


def main(listfile, outfile):
    with open(listfile) as f, gzip.GzipFile(outfile, "wb", mtime=0) as out:
        ino = 1
        for line in f:
            w = line.split()
            if not w:
                continue
            kind, path = w[0], w[1]
            if kind == "dir":
                entry(out, ino, path, stat.S_IFDIR | int(w[2], 8))
            elif kind == "file":
                with open(w[2], "rb") as src:
                    entry(out, ino, path, stat.S_IFREG | int(w[3], 8), src.read())
            elif kind == "slink":
                entry(out, ino, path, stat.S_IFLNK | int(w[3], 8), w[2].encode())
            elif kind == "nod":
                t = stat.S_IFCHR if w[3] == "c" else stat.S_IFBLK
                entry(out, ino, path, t | int(w[2], 8), rdev=(int(w[4]), int(w[5])))
            else:
                sys.exit(f"mkcpio: unknown entry kind {kind!r}")
            ino += 1
        entry(out, 0, "TRAILER!!!", 0)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
