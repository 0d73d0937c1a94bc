#!/usr/bin/env python3
"""Render a terminal capture with ANSI colours (tmux capture-pane -e -p) to a PNG.

Usage: ansi_to_png.py CAPTURE.ans OUT.png [--cols N --rows N]
Needs Pillow and a monospace TTF (DejaVu Sans Mono).
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
]
BOLD_DIRS = [p.replace("Mono.ttf", "Mono-Bold.ttf") for p in FONT_DIRS]
DEFAULT_FG = (208, 208, 208)
DEFAULT_BG = (24, 26, 31)
BASIC = [
    (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16),
    (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
    (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
    (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255),
]


def xterm256(n):
    if n < 16:
        return BASIC[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


def font(paths, size):
    for p in paths:
        try:
            return ImageFont.truetype(p, size)
        except OSError:
            continue
    sys.exit("no DejaVu Sans Mono font: apt-get install fonts-dejavu-core")


class Cell:
    __slots__ = ("ch", "fg", "bg", "bold", "dim", "reverse", "underline")


def parse(text, cols, rows):
    grid = []
    state = dict(fg=None, bg=None, bold=False, dim=False, reverse=False, underline=False)
    for line in text.split("\n")[:rows]:
        row = []
        for token in re.split(r"(\x1b\[[0-9;:]*m)", line):
            if token.startswith("\x1b["):
                apply_sgr(state, token[2:-1])
                continue
            for ch in token:
                c = Cell()
                c.ch = ch
                for k, v in state.items():
                    setattr(c, k, v)
                row.append(c)
        grid.append(row[:cols])
    return grid


def apply_sgr(s, params):
    codes = [int(p) if p else 0 for p in re.split(r"[;:]", params)] or [0]
    i = 0
    while i < len(codes):
        c = codes[i]
        if c == 0:
            s.update(fg=None, bg=None, bold=False, dim=False, reverse=False, underline=False)
        elif c == 1:
            s["bold"] = True
        elif c == 2:
            s["dim"] = True
        elif c == 4:
            s["underline"] = True
        elif c == 7:
            s["reverse"] = True
        elif c == 22:
            s["bold"] = s["dim"] = False
        elif c == 24:
            s["underline"] = False
        elif c == 27:
            s["reverse"] = False
        elif 30 <= c <= 37:
            s["fg"] = BASIC[c - 30]
        elif 90 <= c <= 97:
            s["fg"] = BASIC[c - 90 + 8]
        elif 40 <= c <= 47:
            s["bg"] = BASIC[c - 40]
        elif 100 <= c <= 107:
            s["bg"] = BASIC[c - 100 + 8]
        elif c == 39:
            s["fg"] = None
        elif c == 49:
            s["bg"] = None
        elif c in (38, 48) and i + 1 < len(codes):
            key = "fg" if c == 38 else "bg"
            if codes[i + 1] == 5 and i + 2 < len(codes):
                s[key] = xterm256(codes[i + 2])
                i += 2
            elif codes[i + 1] == 2 and i + 4 < len(codes):
                s[key] = tuple(codes[i + 2:i + 5])
                i += 4
        i += 1


def render(grid, cols, rows, out):
    size = 16
    regular, bold = font(FONT_DIRS, size), font(BOLD_DIRS, size)
    cw = round(regular.getlength("M"))
    ch = size + 4
    pad = 12
    img = Image.new("RGB", (cols * cw + 2 * pad, rows * ch + 2 * pad), DEFAULT_BG)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(grid):
        for x, c in enumerate(row):
            fg, bg = c.fg or DEFAULT_FG, c.bg or DEFAULT_BG
            if c.reverse:
                fg, bg = bg, fg
            if c.dim:
                fg = tuple(int(v * 0.6 + b * 0.4) for v, b in zip(fg, bg))
            px, py = pad + x * cw, pad + y * ch
            if bg != DEFAULT_BG:
                draw.rectangle([px, py, px + cw - 1, py + ch - 1], fill=bg)
            if c.ch.strip():
                draw_char(draw, c.ch, px, py, cw, ch, fg, bold if c.bold else regular)
            if c.underline:
                draw.line([px, py + ch - 2, px + cw - 1, py + ch - 2], fill=fg)
    img.save(out)


BLOCKS = "▁▂▃▄▅▆▇█"


def draw_char(draw, ch, px, py, cw, chh, fg, fnt):
    # Block elements and box drawing are drawn as shapes so they join up.
    if ch in BLOCKS:
        h = round(chh * (BLOCKS.index(ch) + 1) / 8)
        draw.rectangle([px, py + chh - h, px + cw - 1, py + chh - 1], fill=fg)
        return
    mid_x, mid_y = px + cw // 2, py + chh // 2
    lines = {
        "─": [(px, mid_y, px + cw, mid_y)],
        "│": [(mid_x, py, mid_x, py + chh)],
        "┌": [(mid_x, mid_y, px + cw, mid_y), (mid_x, mid_y, mid_x, py + chh)],
        "┐": [(px, mid_y, mid_x, mid_y), (mid_x, mid_y, mid_x, py + chh)],
        "└": [(mid_x, py, mid_x, mid_y), (mid_x, mid_y, px + cw, mid_y)],
        "┘": [(mid_x, py, mid_x, mid_y), (px, mid_y, mid_x, mid_y)],
    }
    if ch in lines:
        for seg in lines[ch]:
            draw.line(seg, fill=fg)
        return
    draw.text((px, py + 1), ch, font=fnt, fill=fg)


def main():
    args = sys.argv[1:]
    cols, rows = 120, 36
    if "--cols" in args:
        cols = int(args[args.index("--cols") + 1])
    if "--rows" in args:
        rows = int(args[args.index("--rows") + 1])
    src, out = args[0], args[1]
    with open(src, encoding="utf-8", errors="replace") as f:
        text = f.read()
    render(parse(text, cols, rows), cols, rows, out)


if __name__ == "__main__":
    main()
