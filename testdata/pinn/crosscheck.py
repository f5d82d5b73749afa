"""Independent PyTorch reference of eandarn's PINN loss (paper Eq. 4-9).

Reads a JSON list of cases written by solver/pinn's TestTorchCrossCheck from stdin:
the heart mesh, time axis, R, BSPM, the network's flat parameters and
architecture, the batch and the collocation points. Rebuilds the network
(FNN or ARN, Eq. 10-11), the Eq. 15 mesh Laplacian (from the triangles), the
Eq. 17-18 time stencil and the Aliev-Panfilov residuals (Eq. 6-8) from the
paper's formulas, evaluates L = L_D + lambda L_EP in float64 and returns
the loss terms and dL/dtheta by autograd as JSON on stdout.

The pieces (network, laplacian, stencil, residuals) are importable: the
epoch benchmark torch_epoch_bench.py reuses them.
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(2)


def network(theta, layers, width, blocks, center, scale):
    """The solver/nn network [x, y, z, t] -> [u, v] over the flat parameter
    vector theta (its layout: per dense layer the o x i weights row-major, then
    the o biases; the ARN's alpha_T last): a tanh FNN of `layers` layers when
    blocks == 0, else the ARN of Eq. 11 with alpha = sigmoid(alpha_T) per block.
    Inputs are normalised as (x - center) / scale."""
    off = [0]

    def dense(i, o):
        w = theta[off[0]:off[0] + i * o].view(o, i)
        b = theta[off[0] + i * o:off[0] + i * o + o]
        off[0] += i * o + o
        return lambda h: F.linear(h, w, b)

    if blocks == 0:
        hidden = [dense(4, width)] + [dense(width, width) for _ in range(layers - 2)]
    else:
        first = dense(4, width)
        blk = []
        for b in range(blocks):
            between = dense(width, width) if b > 0 else None
            blk.append((between, dense(width, width), dense(width, width)))
    out = dense(width, 2)
    alpha_t = theta[off[0]:off[0] + blocks]
    if off[0] + blocks != theta.numel():
        raise ValueError(f"network: {theta.numel()} parameters, the architecture uses {off[0] + blocks}")

    def net(x):
        h = (x - center) / scale
        if blocks == 0:
            for f in hidden:
                h = torch.tanh(f(h))
        else:
            h = torch.tanh(first(h))
            for b, (between, f1, f2) in enumerate(blk):
                if between is not None:
                    h = torch.tanh(between(h))
                al = torch.sigmoid(alpha_t[b])
                h = (1 - al) * torch.tanh(f2(torch.tanh(f1(h)))) + al * h
        return out(h)

    return net


def laplacian(nodes, tris):
    """Eq. 15 as a dense n x n matrix built from the triangles:
    L_ij = 4 / (r_i N_i d_ij) over the mesh neighbours j of i, L_ii = -sum_j L_ij,
    with d_ij the edge length, N_i the neighbour count and r_i the mean d_ij."""
    n = nodes.shape[0]
    nbrs = [set() for _ in range(n)]
    for t in tris:
        for p in range(3):
            nbrs[t[p]].update((t[(p + 1) % 3], t[(p + 2) % 3]))
    L = torch.zeros(n, n, dtype=nodes.dtype)
    for i in range(n):
        js = sorted(nbrs[i])
        d = [float(torch.linalg.norm(nodes[j] - nodes[i])) for j in js]
        r = sum(d) / len(d)
        for j, dij in zip(js, d):
            L[i, j] += 4 / (r * len(js) * dij)
            L[i, i] -= 4 / (r * len(js) * dij)
    return L


def stencil(t, T):
    """Eq. 17-18: the first frame s and the five weights w (to be divided by
    12 tau) of du/dt at frame t of T: u_t(t) = sum_j w_j u(s + j) / (12 tau)."""
    if t == 0:
        return 0, [-25, 48, -36, 16, -3]
    if t == 1:
        return 0, [-3, -10, 18, -6, 1]
    if t == T - 2:
        return T - 5, [-1, 6, -18, 10, 3]
    if t == T - 1:
        return T - 5, [3, -16, 36, -48, 25]
    return t - 2, [1, -8, 0, 8, -1]


def residuals(u, v, ut, vt, lap, ap):
    """The Aliev-Panfilov residuals r_u, r_v of Eq. 6-7, with
    eps(u, v) = e0 + mu1 v / (u + mu2) evaluated at max(u, -mu2 + eps_delta)
    when ap["eps_delta"] > 0 (the guard of the pole; 0: the raw eps)."""
    a, D, k, e0, mu1, mu2, epsd = (ap[x] for x in ("a", "D", "k", "e0", "mu1", "mu2", "eps_delta"))
    ue = torch.clamp(u, min=-mu2 + epsd) if epsd > 0 else u
    eps = e0 + mu1 * v / (ue + mu2)
    ru = ut - D * lap - k * u * (1 - u) * (u - a) + u * v
    rv = vt - eps * (-v - k * u * (u - a - 1))
    return ru, rv


def solve(c):
    nodes = torch.tensor(c["nodes"])
    tris = c["tris"]
    times = torch.tensor(c["times"])
    R = torch.tensor(c["R"])
    Y = torch.tensor(c["Y"])
    n, T = nodes.shape[0], times.shape[0]
    tau = float(times[1] - times[0])
    layers, width, blocks = c["layers"], c["width"], c["blocks"]
    center, scale = torch.tensor(c["center"]), torch.tensor(c["scale"])
    theta = torch.tensor(c["params"], requires_grad=True)
    lam, batch = c["lambda"], c["frames"]
    idx = torch.tensor(c["idx"], dtype=torch.long)
    lap_nd, time_nd, boundary = c["lap_nd"], c["time_nd"], c["boundary"]

    net = network(theta, layers, width, blocks, center, scale)
    L = laplacian(nodes, tris)

    def grid_eval(frames):
        x = torch.cat([torch.cat([nodes, torch.full((n, 1), float(times[f]))], 1) for f in frames])
        return net(x).reshape(len(frames), n, 2)


    # Network on every frame it is needed (all nodes): the batch, plus the stencil frames.
    need = set(batch)
    if time_nd:
        for t in batch:
            s, _ = stencil(t, T)
            need.update(range(s, s + 5))
    frames = sorted(need)
    UV = grid_eval(frames)
    row = {f: r for r, f in enumerate(frames)}
    Ub = torch.stack([UV[row[t], :, 0] for t in batch], 1)  # n x B
    LD = ((Y[:, batch] - R @ Ub) ** 2).mean()

    ii, tt = idx % n, torch.tensor(batch)[idx // n]
    u = torch.stack([UV[row[int(t)], int(i), 0] for i, t in zip(ii, tt)])
    v = torch.stack([UV[row[int(t)], int(i), 1] for i, t in zip(ii, tt)])
    if time_nd:
        ut, vt = [], []
        for i, t in zip(ii, tt):
            s, w = stencil(int(t), T)
            ut.append(sum(wj * UV[row[s + j], int(i), 0] for j, wj in enumerate(w)) / (12 * tau))
            vt.append(sum(wj * UV[row[s + j], int(i), 1] for j, wj in enumerate(w)) / (12 * tau))
        ut, vt = torch.stack(ut), torch.stack(vt)
    normals = torch.tensor(c["normals"]) if boundary else None
    dn = 0
    if not time_nd:
        xc = torch.cat([nodes[ii], times[tt].unsqueeze(1)], 1).requires_grad_(True)
        yc = net(xc)
        gu = torch.autograd.grad(yc[:, 0].sum(), xc, create_graph=True)[0]
        gv = torch.autograd.grad(yc[:, 1].sum(), xc, create_graph=True)[0]
        ut, vt = gu[:, 3], gv[:, 3]
        if not lap_nd:
            lap = sum(torch.autograd.grad(gu[:, j].sum(), xc, create_graph=True)[0][:, j] for j in range(3))
            if boundary:
                dn = (gu[:, :3] * normals[ii]).sum(1)
    if lap_nd:
        lap = torch.stack([(L[int(i)] * UV[row[int(t)], :, 0]).sum() for i, t in zip(ii, tt)])
        if boundary:
            h = c["normal_step"]
            xp = torch.cat([nodes[ii] + h * normals[ii], times[tt].unsqueeze(1)], 1)
            xm = torch.cat([nodes[ii] - h * normals[ii], times[tt].unsqueeze(1)], 1)
            dn = (net(xp)[:, 0] - net(xm)[:, 0]) / (2 * h)

    ru, rv = residuals(u, v, ut, vt, lap, c["ap"])
    LEP = (ru ** 2 + rv ** 2 + (dn ** 2 if boundary else 0)).mean()
    loss = LD + lam * LEP
    (g,) = torch.autograd.grad(loss, theta)
    return {"ld": LD.item(), "lep": LEP.item(), "grad": g.tolist()}


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    json.dump([solve(c) for c in json.load(sys.stdin)], sys.stdout)
