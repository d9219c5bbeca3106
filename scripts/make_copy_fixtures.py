#!/usr/bin/env python3
"""Write the copy-detection test fixtures (tests/fixtures/copies/) from the
photos of tests/fixtures/hash with the photo evaluation's own edits
(scripts/copy_eval_photos.py), seeded, small enough to commit.

Usage: python3 scripts/make_copy_fixtures.py   (Pillow 10.4.0, as the eval)
The fonts fall back to Pillow's own when DejaVu is absent; the fixtures
committed were made on Debian 12 with fonts-dejavu-core.
"""
import os, random, sys
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import copy_eval_photos as edits  # noqa: E402

ROOT = os.path.dirname(HERE)
SRC = os.path.join(ROOT, "tests/fixtures/hash")
OUT = os.path.join(ROOT, "tests/fixtures/copies")
edits.FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
# Photos never stored by the tests: the collage's other cells.
FILLERS = ["brick.jpg", "gravel.jpg", "hubble_deep_field.jpg"]


def photo(name):
    return Image.open(os.path.join(SRC, name)).convert("RGB")


def save(im, name, quality=85):
    im.save(os.path.join(OUT, name), quality=quality)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random("provenance-copy-fixtures-1")
    save(edits.crop_at(photo("coffee.jpg"), 0.5, 0.5, 0.5), "coffee__crop50.jpg")
    shot = edits.screenshot(photo("rocket.jpg"), rng)
    save(shot.resize((shot.width // 2, shot.height // 2), Image.LANCZOS), "rocket__screenshot.jpg", 80)
    edits.MAX_SIDE = 720  # the photo keeps about its own size in its cell
    fillers = [{"path": os.path.join(SRC, f)} for f in FILLERS]
    save(edits.collage(photo("chelsea.jpg"), rng, fillers), "chelsea__collage.jpg", 80)
    turned = ImageOps.mirror(photo("astronaut.jpg")).rotate(30, Image.BICUBIC, expand=True, fillcolor="white")
    save(turned, "astronaut__mirror_rotate30.jpg")
    save(photo("camera.jpg").rotate(90, expand=True), "camera__rotate90.jpg")



def smooth(seed, path_name):
    """A smooth wallpaper: two soft blobs of nearby colours on a gradient (too smooth
    for a perceptual hash, few keypoints)."""
    from PIL import ImageDraw, ImageFilter
    rng = random.Random(seed)
    w, h = 800, 600
    top, bottom = edits.colour(rng, 60, 200), edits.colour(rng, 60, 200)
    im = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(im)
    for y in range(h):
        t = y / (h - 1)
        d.line([(0, y), (w, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    mid = [(a + b) // 2 for a, b in zip(top, bottom)]
    for _ in range(2):
        x, y, r = rng.randrange(w), rng.randrange(h), rng.randrange(150, 300)
        d.ellipse((x - r, y - r, x + r, y + r), fill=tuple(m + rng.randrange(-30, 30) for m in mid))
    im = im.filter(ImageFilter.GaussianBlur(120))
    im.save(os.path.join(OUT, path_name), quality=92)
    return im


def smooth_fixtures():
    stored = smooth("smooth-1", "smooth.jpg")
    small = stored.resize((stored.width * 3 // 10, stored.height * 3 // 10), Image.LANCZOS)
    small.save(os.path.join(OUT, "smooth__resize30.jpg"), quality=75)
    smooth("smooth-5", "smooth_other.jpg")


if __name__ == "__main__":
    main()
    smooth_fixtures()
