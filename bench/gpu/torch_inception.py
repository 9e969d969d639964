#!/usr/bin/env python3
"""PyTorch (CUDA) InceptionV3 on the same card as the tfjs WebGPU proof, for a same-card comparison.

torchvision's inception_v3 (random weights, no aux head), 299x299, fp32: forward images/s at batch
32 and 128, frozen-backbone training (backbone in inference mode, new 2048->5 head trained with
Adam) and full fine-tuning at batch 32. Strict fp32 (TF32 off for matmul and cuDNN) and PyTorch's
defaults (cuDNN convolutions may use TF32). Writes JSON to argv[1] after every measurement.
Usage: python3 torch_inception.py OUT.json [budget_seconds]
"""
import json
import os
import sys
import time

out = sys.argv[1]
budget = float(sys.argv[2]) if len(sys.argv) > 2 else 80.0
t_start = time.time()
res = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def save():
    with open(out + ".tmp", "w") as f:
        json.dump(res, f, indent=2)
    os.replace(out + ".tmp", out)


try:
    import torch
    import torch.nn as nn

    res.update(torch=torch.__version__, cuda=torch.version.cuda, device=torch.cuda.get_device_name(0))
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    try:
        import torchvision
        from torchvision.models import inception_v3

        res["torchvision"] = torchvision.__version__

        def make():
            try:
                return inception_v3(weights=None, aux_logits=False, init_weights=False)
            except TypeError:
                return inception_v3(pretrained=False, aux_logits=False, init_weights=False)
    except ImportError as e:
        res["torchvision"] = f"missing: {e}"
        raise
    save()

    def timed(step, warm=3, reps=15):
        for _ in range(warm):
            step()
        torch.cuda.synchronize()
        t = time.time()
        for _ in range(reps):
            step()
        torch.cuda.synchronize()
        return (time.time() - t) / reps

    for mode in ("strict_fp32", "default"):
        strict = mode == "strict_fp32"
        torch.backends.cuda.matmul.allow_tf32 = not strict and torch.backends.cuda.matmul.allow_tf32
        torch.backends.cudnn.allow_tf32 = not strict
        r = res.setdefault(mode, {"cudnn_allow_tf32": torch.backends.cudnn.allow_tf32, "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32})
        model = make().to(dev)
        model.fc = nn.Identity()
        head = nn.Linear(2048, 5).to(dev)
        loss_fn = nn.CrossEntropyLoss()

        # forward, inference mode
        model.eval()
        for b in (32, 128):
            if time.time() - t_start > budget:
                break
            x = torch.randn(b, 3, 299, 299, device=dev)
            with torch.no_grad():
                s = timed(lambda: model(x), reps=10)
            r[f"forward_b{b}_img_per_s"] = round(b / s, 1)
            save()

        # frozen backbone, head trained (the seed's transfer learning), batch 32
        x = torch.randn(32, 3, 299, 299, device=dev)
        y = torch.randint(0, 5, (32,), device=dev)
        opt = torch.optim.Adam(head.parameters(), lr=1e-4)

        def frozen_step():
            with torch.no_grad():
                f = model(x)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(head(f), y)
            loss.backward()
            opt.step()

        if time.time() - t_start < budget:
            r["frozen_b32_img_per_s"] = round(32 / timed(frozen_step), 1)
            save()

        # full fine-tune, batch 32
        full = nn.Sequential(model, head)
        full.train()
        opt2 = torch.optim.Adam(full.parameters(), lr=1e-4)

        def full_step():
            opt2.zero_grad(set_to_none=True)
            loss = loss_fn(full(x), y)
            loss.backward()
            opt2.step()

        if time.time() - t_start < budget:
            r["full_finetune_b32_img_per_s"] = round(32 / timed(full_step, reps=10), 1)
            save()
        del model, head, full, opt, opt2
        torch.cuda.empty_cache()
except Exception as e:  # keep whatever was measured
    res["error"] = repr(e)
res["seconds"] = round(time.time() - t_start, 1)
save()
print(json.dumps(res))
