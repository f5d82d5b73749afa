#!/usr/bin/python3
"""Independent PyTorch (float64, autograd) reference for eandarn's solver/nn.

Usage: torch_check.py IN.json OUT.json

IN.json holds {"config": {"Layers", "Width", "Blocks"}, "center": [4], "scale": [4],
"params": [...] (eandarn's flat layout, see solver/nn/doc.go), "x": npts x 4 (flat),
"d1": [K1 flat npts x 4], "d2": [K2 flat npts x 4], "cy", "c1": [K1], "c2": [K2]
(flat npts x 2 loss coefficients)}.
OUT.json gets y, dy1, dy2 (flat npts x 2), loss and grad (flat, eandarn's layout) for

    L = sum(cy * y**2) + sum_k sum(c1[k] * dy1[k]**2) + sum_j sum(c2[j] * dy2[j])

where dy1[k] = directional derivative of [u, v] along d1[k], dy2[j] = second directional
derivative along d2[j], both with respect to the physical inputs, by autograd
(create_graph=True). The pieces (build_net, forward, jets, loss) are separate functions
so that the PINN losses can reuse them.
"""
import json
import sys

import torch

torch.set_default_dtype(torch.float64)


def build_net(cfg, params):
    """Returns (layers, alpha_t, plan): layers = [(W, b, tanh)], tensors with grad, in
    eandarn's parameter order; plan lists the forward steps as in solver/nn/net.go."""
    width, blocks, nlayers = cfg["Width"], cfg["Blocks"], cfg["Layers"]
    shapes = []  # (in, out, tanh)
    plan = []  # ("dense", layer index) or ("mix", block index)
    def dense(i, o, act):
        shapes.append((i, o, act))
        plan.append(("dense", len(shapes) - 1))
    dense(4, width, True)
    if blocks == 0:
        for _ in range(nlayers - 2):
            dense(width, width, True)
    else:
        for b in range(blocks):
            if b > 0:
                dense(width, width, True)
            plan.append(("save", b))
            dense(width, width, True)
            dense(width, width, True)
            plan.append(("mix", b))
    dense(width, 2, False)
    p = torch.tensor(params)
    layers, off = [], 0
    for i, o, act in shapes:
        w = p[off:off + i * o].reshape(o, i).clone().requires_grad_(True)
        off += i * o
        b = p[off:off + o].clone().requires_grad_(True)
        off += o
        layers.append((w, b, act))
    alpha_t = p[off:off + blocks].clone().requires_grad_(True)
    assert off + blocks == len(params), (off + blocks, len(params))
    return layers, alpha_t, plan


def forward(net, center, scale, x):
    """Eq. 10-11 on physical inputs x (npts x 4) -> [u, v] (npts x 2)."""
    layers, alpha_t, plan = net
    h = (x - center) / scale
    saved = {}
    for kind, k in plan:
        if kind == "dense":
            w, b, act = layers[k]
            h = h @ w.T + b
            if act:
                h = torch.tanh(h)
        elif kind == "save":
            saved[k] = h
        else:
            a = torch.sigmoid(alpha_t[k])
            h = (1 - a) * h + a * saved[k]
    return h


def jets(net, center, scale, x, d1, d2):
    """Returns y, first directional derivatives along d1[k], second along d2[j] (autograd,
    graph kept for differentiation with respect to the weights)."""
    x = x.clone().requires_grad_(True)
    y = forward(net, center, scale, x)
    grads = [torch.autograd.grad(y[:, o].sum(), x, create_graph=True)[0] for o in range(2)]
    dy1 = [torch.stack([(g * d).sum(1) for g in grads], 1) for d in d1]
    dy2 = []
    for e in d2:
        cols = []
        for g in grads:
            first = (g * e).sum(1)
            h = torch.autograd.grad(first.sum(), x, create_graph=True)[0]
            cols.append((h * e).sum(1))
        dy2.append(torch.stack(cols, 1))
    return y, dy1, dy2


def loss(y, dy1, dy2, cy, c1, c2):
    l = (cy * y ** 2).sum()
    for d, c in zip(dy1, c1):
        l = l + (c * d ** 2).sum()
    for d, c in zip(dy2, c2):
        l = l + (c * d).sum()
    return l


def main():
    src = json.load(open(sys.argv[1]))
    t = lambda v, cols: torch.tensor(v).reshape(-1, cols)
    net = build_net(src["config"], src["params"])
    center, scale = torch.tensor(src["center"]), torch.tensor(src["scale"])
    x = t(src["x"], 4)
    d1 = [t(d, 4) for d in src["d1"]]
    d2 = [t(d, 4) for d in src["d2"]]
    y, dy1, dy2 = jets(net, center, scale, x, d1, d2)
    l = loss(y, dy1, dy2, t(src["cy"], 2), [t(c, 2) for c in src["c1"]], [t(c, 2) for c in src["c2"]])
    layers, alpha_t, _ = net
    leaves = [p for w, b, _ in layers for p in (w, b)] + [alpha_t]
    grads = torch.autograd.grad(l, leaves, allow_unused=True)  # alpha_t is empty for an FNN
    flat = torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for p, g in zip(leaves, grads)])
    out = {
        "y": y.detach().reshape(-1).tolist(),
        "dy1": [d.detach().reshape(-1).tolist() for d in dy1],
        "dy2": [d.detach().reshape(-1).tolist() for d in dy2],
        "loss": l.item(),
        "grad": flat.tolist(),
    }
    json.dump(out, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
