#!/usr/bin/env python3
"""Checks that a browser screenshot (PNG) shows a page, not a blank or an error screen.

Used by `make report-check` on chromium's headless screenshots of `trm-run --report` and `--plot`.
The PNG is decoded with zlib alone (8-bit RGB or RGBA, non-interlaced, as chromium writes it; no
Pillow), then checked: the size asked for, more than one colour, at least --min-ink of the pixels
not the page background, and, with --expect-colours, at least --min-expected of those colours
present (e.g. the ARC palette: the grids were drawn).

    python3 tools/check_screenshot.py shot.png --size 1200x2000 --expect-colours '#0074d9,#ff4136' --min-expected 2
"""

import argparse
import collections
import struct
import sys
import zlib


def read_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB/RGBA non-interlaced PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError(f"{path}: no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        raise ValueError(f"{path}: bit depth {depth}, colour type {colour}, interlace {interlace}: not 8-bit RGB(A)")
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
            elif kind != 0:
                raise ValueError(f"{path}: filter type {kind} in row {y}")
        rows.append([tuple(line[x : x + 3]) for x in range(0, stride, channels)])
        previous = line
    return width, height, rows


def hex_colour(text):
    text = text.strip().lstrip("#")
    return tuple(int(text[i : i + 2], 16) for i in (0, 2, 4))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("png")
    parser.add_argument("--size", help="expected WIDTHxHEIGHT")
    parser.add_argument("--min-bytes", type=int, default=10_000)
    parser.add_argument("--min-colours", type=int, default=8, help="distinct colours at least")
    parser.add_argument("--min-ink", type=float, default=0.01, help="fraction of pixels that are not the background")
    parser.add_argument("--expect-colours", default="", help="comma-separated #rrggbb colours to look for")
    parser.add_argument("--min-expected", type=int, default=1, help="how many of --expect-colours must appear")
    args = parser.parse_args()

    failures = []
    size = len(open(args.png, "rb").read())
    width, height, rows = read_png(args.png)
    counts = collections.Counter(p for row in rows for p in row)
    background, most = counts.most_common(1)[0]
    ink = 1 - most / (width * height)
    if args.size and f"{width}x{height}" != args.size:
        failures.append(f"size {width}x{height}, expected {args.size}")
    if size < args.min_bytes:
        failures.append(f"{size} bytes, under {args.min_bytes}")
    if len(counts) < args.min_colours:
        failures.append(f"{len(counts)} distinct colours, under {args.min_colours}")
    if ink < args.min_ink:
        failures.append(f"{100 * ink:.2f}% of the pixels differ from the background, under {100 * args.min_ink:.2f}%")
    expected = [hex_colour(c) for c in args.expect_colours.split(",") if c.strip()]
    found = [c for c in expected if counts.get(c, 0) > 0]
    if expected and len(found) < args.min_expected:
        failures.append(f"{len(found)} of the expected colours present, under {args.min_expected}")

    summary = (
        f"{args.png}: {width}x{height}, {size} bytes, {len(counts)} colours, background #{bytes(background).hex()}, "
        f"{100 * ink:.1f}% ink" + (f", {len(found)}/{len(expected)} expected colours" if expected else "")
    )
    if failures:
        print(summary + "\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(summary + ": ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
