#!/usr/bin/env python3
"""Generate the CLIP parity fixtures under tests/fixtures/clip/.

No real CLIP weights can be had where this project is built, so correctness
is proven by parity with the reference implementation on a tiny, seeded,
random `CLIPModel` in the Hugging Face layout:

* tiny/config.json + tiny/model.safetensors: the model (weights rounded to
  f16 and stored as f16 to keep the file small; both sides compute in f32).
* images/*: small real-looking pictures of different kinds (JPEG with EXIF
  rotation and origin fields, CMYK JPEG, PNG with alpha, grey+alpha PNG,
  greyscale PNG, 16-bit PNG, palette animated GIF, animated lossless WebP,
  a very wide PNG).
* expected.json: for every image the reference decode (SHA-256 of the RGB8
  bytes), the reference pixel tensor (its SHA-256, plus the 224×224 crop
  the tensor is an exact function of, saved as *.pixels.png), and the image
  embedding; for every text the token ids and the text embedding.

The reference preprocessing is transformers' `CLIPImageProcessorPil` (the
PIL backend: what `CLIPImageProcessor` was up to transformers 4 and what
OpenAI's CLIP does). Before it, the picture is brought to 8-bit RGB by the
project's documented rules (src/decode.rs `to_rgb8`): EXIF orientation
applied, first frame, alpha composited over white with
(c*a + 255*(255-a) + 127) // 255, 16-bit samples rounded with (v+128)//257.

Run from the repository root:
    python3 -m venv .venv-clip && .venv-clip/bin/pip install -r scripts/requirements-clip-fixtures.txt
    .venv-clip/bin/python scripts/gen_clip_fixtures.py
`cargo test` itself never needs Python.
"""

import gzip
import hashlib
import importlib.util
import io
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageOps
from safetensors.torch import save_file
from transformers import CLIPConfig, CLIPModel, CLIPTokenizer
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "clip"
SEED = 20261122

TEXTS = [
    "a photo of a cat",
    "Ein Foto einer Straße in München mit Café-Terrasse",
    "🐱 sitting on a 🛋️ — so cute!! 😻👍🏽",
    "東京の夜景、写真",
    "  Mixed   CASE\twhitespace\nand punctuation: it's, we're; 3.14159 & <tags> ",
    "cafe\u0301 au lait",
    "",
    " ".join(["the quick brown fox jumps over the lazy dog"] * 12),
]


# ---------------------------------------------------------------- the model


def tiny_config() -> CLIPConfig:
    text = dict(
        vocab_size=49408,
        hidden_size=8,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=77,
        hidden_act="quick_gelu",
        layer_norm_eps=1e-5,
        bos_token_id=49406,
        eos_token_id=49407,
        pad_token_id=49407,
    )
    vision = dict(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_channels=3,
        image_size=224,
        patch_size=32,
        hidden_act="quick_gelu",
        layer_norm_eps=1e-5,
    )
    return CLIPConfig(text_config=text, vision_config=vision, projection_dim=16)


def randomise(model: CLIPModel) -> None:
    """Every parameter random (layer norms too, so none is left untested),
    scaled to keep activations O(1), then rounded to f16 values."""
    gen = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "logit_scale":
                p.copy_(p.half().float())
                continue
            noise = torch.randn(p.shape, generator=gen)
            if "norm" in name and name.endswith("weight"):
                value = 1.0 + 0.1 * noise
            elif name.endswith("bias"):
                value = 0.1 * noise
            elif p.dim() >= 2 and "embedding" not in name:
                fan_in = int(np.prod(p.shape[1:]))
                value = noise / np.sqrt(fan_in)
            else:
                value = noise
            p.copy_(value.half().float())


def write_model(directory: Path) -> CLIPModel:
    directory.mkdir(parents=True, exist_ok=True)
    config = tiny_config()
    model = CLIPModel(config).eval()
    randomise(model)
    config.save_pretrained(directory)
    tensors = {k: v.detach().half().contiguous() for k, v in model.named_parameters()}
    save_file(tensors, str(directory / "model.safetensors"), metadata={"format": "pt"})
    # The reference runs on what transformers loads from the files.
    loaded = CLIPModel.from_pretrained(directory, dtype=torch.float32).eval()
    for name, p in model.named_parameters():
        assert torch.equal(p, dict(loaded.named_parameters())[name]), name
    return loaded


# --------------------------------------------------------------- the images


def landscape(width: int, height: int, seed: int) -> Image.Image:
    """A small, photo-like scene: sky gradient, sun, hills, trees, grain."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height)[:, None]
    x = np.linspace(0, 1, width)[None, :]
    sky = np.stack([90 + 120 * y + 0 * x, 140 + 80 * y + 0 * x, 230 - 40 * y + 0 * x], -1)
    img = Image.fromarray(sky.clip(0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    sun = (int(width * 0.75), int(height * 0.25), int(min(width, height) * 0.12))
    draw.ellipse([sun[0] - sun[2], sun[1] - sun[2], sun[0] + sun[2], sun[1] + sun[2]], fill=(255, 220, 120))
    for layer, colour in enumerate([(70, 110, 60), (40, 85, 45)]):
        phase = rng.uniform(0, 6)
        pts = [(0, height)]
        for i in range(width + 1):
            h = 0.55 + 0.12 * layer + 0.08 * np.sin(i / width * 9 + phase) + 0.03 * np.sin(i / width * 31)
            pts.append((i, int(h * height)))
        pts.append((width, height))
        draw.polygon(pts, fill=colour)
    for _ in range(6):
        tx, ty = int(rng.uniform(0, width)), int(rng.uniform(0.7, 0.9) * height)
        s = int(rng.uniform(0.05, 0.1) * height)
        draw.rectangle([tx - 1, ty, tx + 1, ty + s], fill=(90, 60, 30))
        draw.ellipse([tx - s // 2, ty - s, tx + s // 2, ty + s // 3], fill=(30, 100, 40))
    arr = np.asarray(img).astype(np.int16) + rng.integers(-6, 7, (height, width, 3))
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")


def png16(path: Path, rgb16: np.ndarray) -> None:
    """A 16-bit RGB PNG (Pillow cannot write one)."""
    h, w, _ = rgb16.shape
    raw = b"".join(b"\0" + rgb16[r].astype(">u2").tobytes() for r in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def over_white(rgba: np.ndarray) -> np.ndarray:
    c = rgba[..., :3].astype(np.uint32)
    a = rgba[..., 3:4].astype(np.uint32)
    return ((c * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)


def to_reference_rgb(im: Image.Image) -> np.ndarray:
    """The documented colour rules on a PIL picture (first frame, oriented)."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        return over_white(np.asarray(im.convert("RGBA")))
    return np.asarray(im.convert("RGB"))


def make_images(directory: Path) -> list[dict]:
    directory.mkdir(parents=True, exist_ok=True)
    made = []

    # JPEG shot sideways: pixels stored landscape, EXIF says rotate 90° CW.
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x013B] = "Jane Doe"
    exif[0x8298] = "(c) 2024 Jane Doe"
    exif.get_ifd(0x8769)[0x9003] = "2024:05:17 10:30:00"
    landscape(240, 160, 1).save(directory / "exif_rotated.jpg", quality=90, exif=exif.tobytes())
    made.append(dict(file="exif_rotated.jpg", kind="jpeg, EXIF orientation 6 and origin fields", lossless=False,
                     exif=dict(date_time_original="2024:05:17 10:30:00", artist="Jane Doe", copyright="(c) 2024 Jane Doe")))

    landscape(200, 150, 2).convert("CMYK").save(directory / "cmyk.jpg", quality=92)
    made.append(dict(file="cmyk.jpg", kind="CMYK JPEG", lossless=False))

    rgba = np.asarray(landscape(180, 180, 3).convert("RGBA")).copy()
    yy, xx = np.mgrid[0:180, 0:180]
    rgba[..., 3] = np.clip(255 - np.hypot(yy - 90, xx - 90) * 2.6, 0, 255).astype(np.uint8)
    rgba[rgba[..., 3] == 0, :3] = 0  # what hides under alpha 0 must not matter
    Image.fromarray(rgba, "RGBA").save(directory / "alpha.png")
    made.append(dict(file="alpha.png", kind="RGBA PNG, radial alpha", lossless=True))

    la = np.stack([np.asarray(landscape(120, 90, 4).convert("L")), np.tile(np.linspace(0, 255, 120), (90, 1)).astype(np.uint8)], -1)
    Image.fromarray(la, "LA").save(directory / "grey_alpha.png")
    made.append(dict(file="grey_alpha.png", kind="grey + alpha PNG", lossless=True))

    landscape(150, 200, 5).convert("L").save(directory / "grey.png")
    made.append(dict(file="grey.png", kind="8-bit greyscale PNG, portrait", lossless=True))

    base16 = np.asarray(landscape(128, 96, 6)).astype(np.uint32) * 257
    rng = np.random.default_rng(7)
    rgb16 = (base16 + rng.integers(0, 257, base16.shape)).clip(0, 65535).astype(np.uint16)
    png16(directory / "sixteen_bit.png", rgb16)
    made.append(dict(file="sixteen_bit.png", kind="16-bit RGB PNG", lossless=True,
                     rgb8=((rgb16.astype(np.uint32) + 128) // 257).astype(np.uint8)))

    frames = [landscape(160, 120, 8 + i).quantize(colors=64, dither=Image.Dither.NONE) for i in range(2)]
    frames[0].save(directory / "palette_anim.gif", save_all=True, append_images=frames[1:], duration=200, loop=0)
    made.append(dict(file="palette_anim.gif", kind="palette GIF, 2 frames", lossless=True))

    webp_frames = [landscape(96, 96, 20 + i) for i in range(2)]
    webp_frames[0].save(directory / "anim.webp", save_all=True, append_images=webp_frames[1:], lossless=True, duration=100)
    made.append(dict(file="anim.webp", kind="animated lossless WebP, 2 frames", lossless=True))

    landscape(900, 56, 9).save(directory / "wide.png")
    made.append(dict(file="wide.png", kind="very wide PNG (900x56)", lossless=True))

    landscape(1, 1, 10).save(directory / "one_pixel.png")
    made.append(dict(file="one_pixel.png", kind="1x1 PNG", lossless=True))
    return made


def reference_decode(path: Path, entry: dict) -> np.ndarray:
    if "rgb8" in entry:
        return entry.pop("rgb8")
    im = Image.open(path)
    im.seek(0)
    im = ImageOps.exif_transpose(im)
    return to_reference_rgb(im)


# ---------------------------------------------------------------- the texts


def reference_tokenizer() -> CLIPTokenizer:
    """transformers' CLIPTokenizer built from OpenAI's BPE file (as shipped
    by open-clip-torch), the way a hub tokenizer.json is built."""
    spec = importlib.util.find_spec("open_clip")
    bpe_path = Path(spec.submodule_search_locations[0]) / "bpe_simple_vocab_16e6.txt.gz"
    merges = gzip.open(bpe_path).read().decode("utf-8").split("\n")[1 : 49152 - 256 - 2 + 1]
    merges = [tuple(m.split()) for m in merges]
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    units = [chr(c) for c in cs]
    vocab = units + [u + "</w>" for u in units] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    tok = CLIPTokenizer(vocab={t: i for i, t in enumerate(vocab)}, merges=merges)
    ids = tok("a photo of a cat")["input_ids"]
    assert ids == [49406, 320, 1125, 539, 320, 2368, 49407], ids
    return tok


# ----------------------------------------------------------------- the rest


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def crop_from_pixels(pixels: np.ndarray) -> np.ndarray:
    """The uint8 crop a pixel tensor was computed from, proven exact."""
    mean = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
    std = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
    levels = np.arange(256, dtype=np.float64)
    table = ((levels * (1 / 255)).astype(np.float32)[None, :] - mean[:, None]) / std[:, None]  # (3, 256)
    crop = np.zeros(pixels.shape, dtype=np.uint8)
    for c in range(3):
        idx = np.searchsorted(table[c], pixels[c])
        idx = np.clip(idx, 0, 255)
        assert np.array_equal(table[c][idx], pixels[c]), "pixel tensor is not normalise(uint8)"
        crop[c] = idx
    return crop


def main() -> None:
    torch.manual_seed(SEED)
    model = write_model(OUT / "tiny")
    processor = CLIPImageProcessorPil()
    entries = make_images(OUT / "images")
    try:
        from transformers import CLIPImageProcessor

        fast = CLIPImageProcessor()
    except Exception:  # torchvision missing: the comparison is informational only
        fast = None

    images_out = []
    for entry in entries:
        path = OUT / "images" / entry["file"]
        rgb = reference_decode(path, entry)
        pil = Image.fromarray(rgb, "RGB")
        pixels = processor(images=pil, return_tensors="np")["pixel_values"][0].astype(np.float32)
        crop = crop_from_pixels(pixels)
        stem = entry["file"].rsplit(".", 1)[0]
        Image.fromarray(np.moveaxis(crop, 0, -1), "RGB").save(OUT / "images" / f"{stem}.pixels.png", optimize=True)
        if not entry["lossless"]:
            pil.save(OUT / "images" / f"{stem}.reference.png", optimize=True)
        with torch.no_grad():
            feats = model.get_image_features(pixel_values=torch.from_numpy(pixels[None]))
            feats = getattr(feats, "pooler_output", feats)
            emb = torch.nn.functional.normalize(feats, dim=-1)[0].tolist()
        if fast is not None:
            tv = fast(images=pil, return_tensors="pt")["pixel_values"][0].numpy()
            entry["torchvision_backend_max_abs_diff"] = float(np.abs(tv - pixels).max())
        entry.update(
            width=rgb.shape[1],
            height=rgb.shape[0],
            decoded_rgb8_sha256=sha256(np.ascontiguousarray(rgb).tobytes()),
            pixels_png=f"{stem}.pixels.png",
            pixels_f32le_sha256=sha256(pixels.astype("<f4").tobytes()),
            embedding=emb,
        )
        images_out.append(entry)

    tok = reference_tokenizer()
    enc = tok(TEXTS, padding="max_length", max_length=77, truncation=True, return_tensors="pt")
    with torch.no_grad():
        feats = model.get_text_features(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
        feats = getattr(feats, "pooler_output", feats)
        text_emb = torch.nn.functional.normalize(feats, dim=-1).tolist()
    texts_out = []
    for i, text in enumerate(TEXTS):
        n = int(enc["attention_mask"][i].sum())
        texts_out.append(dict(text=text, ids=enc["input_ids"][i][:n].tolist(), embedding=text_emb[i]))

    import PIL
    import transformers

    expected = dict(
        generator="scripts/gen_clip_fixtures.py",
        versions=dict(torch=torch.__version__, transformers=transformers.__version__, pillow=PIL.__version__, numpy=np.__version__),
        model=dict(dir="tiny", projection_dim=16, image_size=224),
        images=images_out,
        texts=texts_out,
    )
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"wrote {OUT} ({total / 1024:.0f} KiB)")
    for e in images_out:
        print(f"  {e['file']:20} torchvision-vs-PIL max abs diff: {e.get('torchvision_backend_max_abs_diff')}")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
