#!/usr/bin/python3
"""The seed project's image path, for comparison with `retina preprocess`: PIL open, RGB,
torchvision Resize(size) + CenterCrop(size) + ToTensor, one image at a time on one thread.
Usage: seed_pil_torchvision.py SIZE FILE... ; prints JSON {"images", "seconds", "msPerImage", "cpuMsPerImage"}."""
import json
import sys
import time

import torch
from PIL import Image
from torchvision import transforms

torch.set_num_threads(1)
size = int(sys.argv[1])
files = sys.argv[2:]
tf = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size), transforms.ToTensor()])
for f in files[:2]:  # warm-up
    tf(Image.open(f).convert('RGB'))
t = time.perf_counter()
c = time.process_time()
for f in files:
    x = tf(Image.open(f).convert('RGB'))
    assert x.shape == (3, size, size)
secs = time.perf_counter() - t
cpu = time.process_time() - c
print(json.dumps({"images": len(files), "seconds": secs, "msPerImage": 1000 * secs / len(files), "cpuMsPerImage": 1000 * cpu / len(files)}))
