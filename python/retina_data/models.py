"""The networks `python -m retina_data.train` trains: the seed's torchvision InceptionV3 with a new
2048 -> 5 head, and a small CNN for tests and quick runs (retina's small-cnn, rebuilt in torch)."""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

NUM_CLASSES = 5
MODEL_NAMES = ("inception-v3", "small-cnn")
#: torchvision's InceptionV3 without its auxiliary head accepts 75x75 and up.
INCEPTION_MIN_SIDE = 75
SMALL_CNN_MIN_SIDE = 16


class SmallCnn(nn.Module):
    """Four 3x3 conv + batch norm + ReLU units (8-16-32-32 filters, the first at full resolution so
    one- or two-pixel lesions survive, the rest stride 2), then global average and max pooling side
    by side -> 64 features: the layout of retina's tfjs small-cnn (src/train/models/small-cnn.ts)."""

    features = 64

    def __init__(self, channels: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = channels
        for filters, stride in ((8, 1), (16, 2), (32, 2), (32, 2)):
            conv = nn.Conv2d(c, filters, 3, stride=stride, padding=1, bias=False)
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            layers += [conv, nn.BatchNorm2d(filters, eps=1e-3, momentum=0.1), nn.ReLU(inplace=True)]
            c = filters
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.body(x)
        return torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)


class Grader(nn.Module):
    """backbone -> features -> head (logits over the 5 grades)."""

    def __init__(self, backbone: nn.Module, head: nn.Linear, frozen: bool) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.frozen = frozen
        if frozen:
            for p in self.backbone.parameters():
                p.requires_grad_(False)

    def train(self, mode: bool = True) -> "Grader":
        super().train(mode)
        # A frozen backbone stays in eval mode: its batch norms use their stored statistics and
        # update nothing, and dropout is off, so it is the same function on every rank and step.
        if self.frozen:
            self.backbone.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def _load_state(path: str) -> dict:
    state = torch.load(path, map_location="cpu")
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path} holds no state_dict (a dict of tensors, as torch.save(model.state_dict()) writes)")
    return state


def build_inception(weights: Optional[str]) -> tuple[nn.Module, int]:
    """torchvision's inception_v3 as a 2048-feature backbone. With `weights`, a torchvision
    state_dict from a file (ImageNet's has a 1000-class fc and the aux head; both are loaded
    strictly, then replaced); never a download. transform_input stays off: retina's tensors are
    already in [-1, 1], the range the Inception weights were trained on."""
    from torchvision.models import inception_v3

    net = inception_v3(weights=None, aux_logits=True, init_weights=weights is None, transform_input=False)
    if weights is not None:
        state = _load_state(weights)
        classes = state["fc.weight"].shape[0] if "fc.weight" in state else 1000
        if classes != 1000:
            net.fc = nn.Linear(2048, classes)
        aux = "AuxLogits.fc.weight" in state
        if not aux:
            net.AuxLogits = None
        missing, unexpected = net.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(f"{weights} is not a torchvision inception_v3 state_dict: missing {missing[:5]}, unexpected {unexpected[:5]}")
    # The aux head only adds a loss term in the seed's fine-tuning and limits the input to 299 px;
    # the grader trains the main head only (as retina's tfjs trainer does).
    net.aux_logits = False
    net.AuxLogits = None
    net.fc = nn.Identity()
    return net, 2048


def build_model(name: str, *, fine_tune: bool, weights: Optional[str], seed: int, channels: int = 3) -> Grader:
    """The grader, its weights initialised from `seed` (every rank builds the same network; DDP
    also broadcasts rank 0's)."""
    torch.manual_seed(seed)
    if name == "inception-v3":
        if channels != 3:
            raise ValueError(f"inception-v3 takes 3-channel images, not {channels}")
        backbone, dim = build_inception(weights)
    elif name == "small-cnn":
        if weights is not None:
            raise ValueError("--weights applies to inception-v3 only")
        backbone, dim = SmallCnn(channels), SmallCnn.features
    else:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}")
    torch.manual_seed(seed + 1)
    head = nn.Linear(dim, NUM_CLASSES)
    return Grader(backbone, head, frozen=not fine_tune)


def min_side(name: str) -> int:
    return INCEPTION_MIN_SIDE if name == "inception-v3" else SMALL_CNN_MIN_SIDE
