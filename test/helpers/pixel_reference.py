#!/usr/bin/python3
"""Independent references for retina's image transform, computed with Debian's python3-pil and
python3-opencv (never with retina's own code). Used by test/src/transform-fidelity.test.ts.

Reads a JSON list of jobs on stdin, writes each job's raw uint8 output to job["out"] and prints a
JSON list of per-job results on stdout. Jobs:

- {"op": "pil-box", "file", "box": [x0, y0, x1, y1], "size", "out"}: the image (EXIF-transposed,
  RGB) resized to size x size from the fractional box in original pixels with PIL's antialiased
  bilinear filter (Image.BILINEAR with box=...). Parts of the box outside the image are black: the
  image is pasted on a black canvas large enough that the canvas edge is outside every filter.
- {"op": "circle", "file"}: least-squares circle fit of the retina's edge on the full-resolution
  image (OpenCV contour of the thresholded brightest channel; edge points on the image border,
  where the camera clipped the circle, are left out). Prints {"cx", "cy", "r"} in original pixels.
- {"op": "ben-graham", "raw", "size", "rect": [x0, y0, x1, y1], "sigma", "mask": [cx, cy, r],
  "out"}: the Kaggle winner's cv2.addWeighted(img, 4, cv2.GaussianBlur(img, (0, 0), sigma), -4,
  128) on the part `rect` (end-exclusive) of a size x size x 3 uint8 square (the image's own
  pixels; OpenCV's default border, reflect-101, at its edges), then 128 outside the circle `mask`
  and outside `rect`.
"""
import json
import sys

import numpy as np
from PIL import Image, ImageOps


def pil_box(job):
    img = ImageOps.exif_transpose(Image.open(job["file"])).convert("RGB")
    x0, y0, x1, y1 = job["box"]
    size = job["size"]
    # Filter support is box/size * 1 px each side; a margin of that plus 2 keeps the canvas edge out.
    margin = int(max(x1 - x0, y1 - y0) / size) + 4
    left, top = int(np.floor(min(0, x0))) - margin, int(np.floor(min(0, y0))) - margin
    right, bottom = int(np.ceil(max(img.width, x1))) + margin, int(np.ceil(max(img.height, y1))) + margin
    canvas = Image.new("RGB", (right - left, bottom - top))
    canvas.paste(img, (-left, -top))
    out = canvas.resize((size, size), Image.BILINEAR, box=(x0 - left, y0 - top, x1 - left, y1 - top))
    with open(job["out"], "wb") as f:
        f.write(out.tobytes())
    return {}


def fit_circle(points):
    """Algebraic (Kasa) fit, then Gauss-Newton on the geometric distance, dropping outliers."""
    x, y = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    keep = np.ones(len(x), bool)
    for _ in range(3):
        a = np.stack([x[keep], y[keep], np.ones(keep.sum())], 1)
        d, e, f = np.linalg.lstsq(a, -(x[keep] ** 2 + y[keep] ** 2), rcond=None)[0]
        cx, cy = -d / 2, -e / 2
        r = np.sqrt(cx * cx + cy * cy - f)
        for _ in range(10):
            dx, dy = x[keep] - cx, y[keep] - cy
            dist = np.hypot(dx, dy)
            j = np.stack([-dx / dist, -dy / dist, -np.ones_like(dist)], 1)
            step = np.linalg.lstsq(j, -(dist - r), rcond=None)[0]
            cx, cy, r = cx + step[0], cy + step[1], r + step[2]
        res = np.abs(np.hypot(x - cx, y - cy) - r)
        keep = res < max(3.0, 4 * np.median(res[keep]))
    return float(cx), float(cy), float(r)


def circle(job):
    import cv2

    img = np.asarray(ImageOps.exif_transpose(Image.open(job["file"])).convert("RGB"))
    v = img.max(axis=2)
    h, w = v.shape
    c = max(1, round(0.04 * min(h, w)))
    border = float(np.median(np.concatenate([v[:c, :c].ravel(), v[:c, -c:].ravel(), v[-c:, :c].ravel(), v[-c:, -c:].ravel()])))
    bright = float(np.percentile(v, 95))
    # The level retina uses: the border plus 12 % of the way to the bright retina, at least 6.
    level = border + max(6.0, 0.12 * (bright - border))
    mask = (v > level).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    pts = max(contours, key=cv2.contourArea)[:, 0, :]
    # Pixel centres; leave out the camera's straight clip lines (points on or next to the border).
    inside = (pts[:, 0] > 1) & (pts[:, 0] < w - 2) & (pts[:, 1] > 1) & (pts[:, 1] < h - 2)
    cx, cy, r = fit_circle(pts[inside] + 0.5)
    return {"cx": cx, "cy": cy, "r": r}


def ben_graham(job):
    import cv2

    size = job["size"]
    sq = np.fromfile(job["raw"], np.uint8).reshape(size, size, 3)
    x0, y0, x1, y1 = job["rect"]
    part = np.ascontiguousarray(sq[y0:y1, x0:x1])
    bg = cv2.addWeighted(part, 4, cv2.GaussianBlur(part, (0, 0), job["sigma"]), -4, 128)
    out = np.full_like(sq, 128)
    out[y0:y1, x0:x1] = bg
    cx, cy, r = job["mask"]
    yy, xx = np.mgrid[0:size, 0:size]
    out[(xx - cx) ** 2 + (yy - cy) ** 2 > r * r] = 128
    out.tofile(job["out"])
    return {}


# The stored pixels for each EXIF orientation, given the displayed image D: orient(stored) == D.
STORE = {
    1: None, 2: Image.FLIP_LEFT_RIGHT, 3: Image.ROTATE_180, 4: Image.FLIP_TOP_BOTTOM,
    5: Image.TRANSPOSE, 6: Image.ROTATE_90, 7: Image.TRANSVERSE, 8: Image.ROTATE_270,
}


def orientations(job):
    """The photograph `file`, cropped to `crop` (x0, y0, x1, y1), stored in each of the 8 EXIF
    orientations as JPEG (quality 100, 4:4:4) under `prefix`-N.jpeg; PIL's exif_transpose of each gives
    the displayed image back exactly (checked before encoding)."""
    shown = Image.open(job["file"]).convert("RGB").crop(tuple(job["crop"]))
    files = []
    for o, op in STORE.items():
        stored = shown if op is None else shown.transpose(op)
        exif = Image.Exif()
        exif[0x0112] = o
        check = stored.copy()
        check.info["exif"] = exif.tobytes()
        assert ImageOps.exif_transpose(check).tobytes() == shown.tobytes(), o
        name = f'{job["prefix"]}-{o}.jpeg'
        stored.save(name, quality=100, subsampling=0, exif=exif)
        files.append(name)
    return {"files": files}


OPS = {"pil-box": pil_box, "circle": circle, "ben-graham": ben_graham, "orientations": orientations}

if __name__ == "__main__":
    jobs = json.load(sys.stdin)
    print(json.dumps([OPS[j["op"]](j) for j in jobs]))
