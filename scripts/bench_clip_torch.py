#!/usr/bin/env python3
"""PyTorch side of the CLIP benchmark (issue 3): transformers' CLIPModel,
eager (no torch.compile), on the same weights and machine as
`benches/clip_embed` — run both in one command with scripts/bench-gpu.sh.

  bench_clip_torch.py model    --model-dir DIR [--dtypes f32,f16,bf16] [--batches 1,32,256]
  bench_clip_torch.py pipeline --model-dir DIR --images DIR [--count N] [--workers W]

`model`: images/s of get_image_features, input already on the GPU, for
transformers' default attention (sdpa) and its plain 'eager' attention.
`pipeline`: JPEG files → PIL decode → CLIPImageProcessor in DataLoader
workers (pinned memory) → model.
"""
import argparse
import os
import time

import torch
from PIL import Image
from transformers import CLIPModel

DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def per_second(seconds, work):
    work()
    torch.cuda.synchronize()
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < seconds or calls < 3:
        work()
        torch.cuda.synchronize()
        calls += 1
    return calls / (time.perf_counter() - start)


def load(model_dir, dtype, attention):
    model = CLIPModel.from_pretrained(model_dir, dtype=dtype, attn_implementation=attention)
    return model.cuda().eval()


def model_mode(args):
    print(f"\n## PyTorch {torch.__version__} CLIPModel, input on the GPU ({torch.cuda.get_device_name()})\n")
    print("| implementation | dtype | batch | images/s |\n|---|---|---:|---:|")
    for name in args.dtypes.split(","):
        dtype = DTYPES[name]
        for attention in ("sdpa", "eager"):
            model = load(args.model_dir, dtype, attention)
            for batch in map(int, args.batches.split(",")):
                x = torch.randn(batch, 3, 224, 224, device="cuda", dtype=dtype)
                with torch.inference_mode():
                    rate = batch * per_second(args.seconds, lambda: model.get_image_features(pixel_values=x))
                print(f"| PyTorch eager, {attention} attention | {name} | {batch} | {rate:.1f} |", flush=True)
            del model
            torch.cuda.empty_cache()


class Files(torch.utils.data.Dataset):
    def __init__(self, paths, processor):
        self.paths, self.processor = paths, processor

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        image = Image.open(self.paths[i]).convert("RGB")
        return self.processor(images=image, return_tensors="pt")["pixel_values"][0]


def processor():
    try:
        from transformers import CLIPImageProcessorFast as Processor
    except ImportError:
        from transformers import CLIPImageProcessor as Processor
    return Processor()


def pipeline_mode(args):
    paths = sorted(
        os.path.join(args.images, f) for f in os.listdir(args.images) if f.endswith(".jpg")
    )[: args.count]
    proc = processor()
    print(f"\n## PyTorch: JPEG → PIL → {type(proc).__name__} ({args.workers} workers) → model, {len(paths)} files\n")
    print("| dtype | batch | images/s |\n|---|---:|---:|")
    for name in args.dtypes.split(","):
        dtype = DTYPES[name]
        model = load(args.model_dir, dtype, "sdpa")
        for batch in map(int, args.batches.split(",")):
            loader = torch.utils.data.DataLoader(
                Files(paths, proc), batch_size=batch, num_workers=args.workers,
                pin_memory=True, persistent_workers=False)
            with torch.inference_mode():
                model.get_image_features(pixel_values=torch.zeros(1, 3, 224, 224, device="cuda", dtype=dtype))
                torch.cuda.synchronize()
                start, done = time.perf_counter(), 0
                for pixels in loader:
                    model.get_image_features(pixel_values=pixels.cuda(non_blocking=True).to(dtype))
                    done += pixels.shape[0]
                torch.cuda.synchronize()
            print(f"| {name} | {batch} | {done / (time.perf_counter() - start):.1f} |", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["model", "pipeline"])
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--dtypes", default="f32,f16")
    parser.add_argument("--batches", default="1,32,256")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--images")
    parser.add_argument("--count", type=int, default=2048)
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    (model_mode if args.mode == "model" else pipeline_mode)(args)


if __name__ == "__main__":
    main()
