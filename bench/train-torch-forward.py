"""PyTorch's InceptionV3 forward on this machine, for comparison with bench/train-forward.ts.

torchvision inception_v3(weights=None, aux_logits=False, init_weights=True), eval mode, fc replaced
by identity (pooled 2048-d features, like retina's frozen backbone), 299x299, float32, CPU.

    /usr/bin/python3 bench/train-torch-forward.py [--threads 2] [--images 64]
"""
import argparse
import os
import time

import torch
import torchvision

p = argparse.ArgumentParser()
p.add_argument('--threads', type=int, default=2)
p.add_argument('--images', type=int, default=64)
a = p.parse_args()
torch.set_num_threads(a.threads)
model = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=True)
model.fc = torch.nn.Identity()
model.eval()
print(f'torch {torch.__version__}, {a.threads} threads, load average {os.getloadavg()}')
with torch.no_grad():
    for batch in (1, 8, 32):
        x = torch.rand(batch, 3, 299, 299) * 2 - 1
        model(x)  # warm-up
        n = max(batch, a.images)
        t0 = time.perf_counter()
        for _ in range((n + batch - 1) // batch):
            y = model(x)
        ms = (time.perf_counter() - t0) * 1000 / (((n + batch - 1) // batch) * batch)
        print(f'batch {batch}: {ms:.0f} ms/image, {1000 / ms:.2f} images/s, features {tuple(y.shape)}')
