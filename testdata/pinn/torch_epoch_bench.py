#!/usr/bin/python3
"""PyTorch timing of the computation of solver/pinn's BenchmarkEpochEANDARN.

One full-grid training epoch of eandarn (ARN NN6: 10 layers x 15, 3 adaptive
residual blocks, Eq. 11) on a run file: the T frames in contiguous blocks of B,
each batch evaluating the network on every heart node of its window (the batch
frames plus their Eq. 17-18 stencil frames), with
    L_D  = mean over the batch of (Y - R U)^2                         (Eq. 5)
    L_EP = mean over batch nodes x frames of r_u^2 + r_v^2             (Eq. 9)
r_u, r_v of Eq. 6-7 with the Eq. 15 Laplacian (sparse) and the Eq. 17-18
stencil, and loss = L_D + lambda L_EP; loss.backward() per batch, no optimizer
step (gradients accumulate over the epoch, as in the Go benchmark).

The network, its input normalizer, lambda, B and the AP parameters come from
the JSON that solver/pinn's TestEpochExport writes (Go's initial weights), so
both sides compute exactly the same thing; the network, Eq. 15, Eq. 17-18 and
the residuals are crosscheck.py's.

Usage: torch_epoch_bench.py RUNFILE GO.json [float32|float64] [--repeats N] [--check] [--device cuda]
Prints one line per repeat (after one warm-up epoch) and the mean in ms/epoch.
--check instead evaluates the epoch once in float64 and once in float32 and
compares the summed losses and gradient with Go's totals in the same
precision in GO.json (exit 1 beyond 1e-10 / 1e-9 in float64, 1e-6 / 1e-5
in float32). --device cuda runs the epoch on the GPU (kernels/cuda's
gpu-check compares it with the Go epoch on the same card).
"""
import argparse
import json
import os
import sys
import time

# Threading, set before torch loads (the environment may override it): the
# ops run on torch's 2 OpenMP threads, and Debian's torch calls OpenBLAS for
# the GEMMs, whose own 2 threads would oversubscribe the 2 cores. Measured on
# the quiet 2-core VM, float32: 0.64 s/epoch with OPENBLAS_NUM_THREADS=1,
# 3.5 s without. On a busy machine OMP_WAIT_POLICY=PASSIVE also helps (0.9 s
# against 5-20 s with another process running) but costs ~40% when quiet.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import h5py
import numpy as np
import torch

from crosscheck import laplacian, network, residuals, stencil

torch.set_num_threads(2)


class Epoch:
    """The data and network of one epoch in a given dtype; run() does the epoch."""

    def __init__(self, runfile, go, dtype, device="cpu"):
        with h5py.File(runfile, "r") as f:
            nodes = np.asarray(f["geometry/heart/nodes"], dtype=np.float64)
            tris = np.asarray(f["geometry/heart/triangles"], dtype=np.int64)
            R = np.asarray(f["forward/R"], dtype=np.float64)
            Y = np.asarray(f["signals/bspm"], dtype=np.float64)
            times = np.asarray(f["signals/time"], dtype=np.float64)
        n, T = nodes.shape[0], times.shape[0]
        self.n, self.T, self.B = n, T, go["batch_frames"]
        tau = times[1] - times[0]
        as_t = lambda a: torch.as_tensor(a, dtype=dtype, device=device)
        self.R, self.YT = as_t(R), as_t(Y.T.copy())  # m x n, T x m
        # Inputs [x, y, z, t] of every node at every frame, frame-major: T x n x 4.
        X = np.concatenate([np.broadcast_to(nodes, (T, n, 3)), np.broadcast_to(times[:, None, None], (T, n, 1))], 2)
        self.X = as_t(X)
        # Eq. 15 (built in float64 from the triangles), kept sparse.
        self.L = laplacian(torch.as_tensor(nodes), tris.tolist()).to(dtype).to_sparse().coalesce().to(device)
        self.theta = as_t(np.asarray(go["params"])).requires_grad_(True)
        self.net = network(self.theta, go["layers"], go["width"], go["blocks"], as_t(go["center"]), as_t(go["scale"]))
        self.lam, self.ap = go["lambda"], go["ap"]
        # Per batch: the batch frames [b0, b1), its window [w0, w1) (contiguous for
        # contiguous frames) and the B x W Eq. 17-18 matrix S, u_t = S U_window.
        self.batches = []
        for b0 in range(0, T, self.B):
            b1 = min(T, b0 + self.B)
            st = [stencil(t, T) for t in range(b0, b1)]
            w0, w1 = min(s for s, _ in st), max(s for s, _ in st) + 5
            S = np.zeros((b1 - b0, w1 - w0))
            for k, (s, w) in enumerate(st):
                S[k, s - w0:s - w0 + 5] = np.asarray(w) / (12 * tau)
            self.batches.append((b0, b1, w0, w1, as_t(S)))

    def batch_loss(self, b0, b1, w0, w1, S):
        """L_D, L_EP of one batch, the network evaluated on its window."""
        W = w1 - w0
        UV = self.net(self.X[w0:w1].reshape(-1, 4)).view(W, self.n, 2)
        UVb = UV[b0 - w0:b1 - w0]  # B x n x 2
        u, v = UVb[..., 0], UVb[..., 1]
        LD = ((u @ self.R.T - self.YT[b0:b1]) ** 2).mean()
        UVt = (S @ UV.reshape(W, 2 * self.n)).view(-1, self.n, 2)  # Eq. 17-18
        lap = torch.sparse.mm(self.L, u.T).T  # Eq. 15, B x n
        ru, rv = residuals(u, v, UVt[..., 0], UVt[..., 1], lap, self.ap)
        LEP = (ru ** 2 + rv ** 2).mean()
        return LD, LEP

    def run(self):
        """One epoch: forward + backward per batch; returns the summed L_D, L_EP, L."""
        self.theta.grad = None
        ld = lep = loss = 0.0
        for b in self.batches:
            LD, LEP = self.batch_loss(*b)
            L = LD + self.lam * LEP
            L.backward()
            ld, lep, loss = ld + LD.item(), lep + LEP.item(), loss + L.item()
        return ld, lep, loss


# Tolerances of --check (relative, losses / gradient norm): float64 sides
# must agree to rounding; float32 sides each carry float32 rounding (about
# 1e-7 per operation, accumulated over 10 layers and 83 batches).
CHECKS = [("float64", "", 1e-10, 1e-9), ("float32", "_f32", 1e-6, 1e-5)]


def check(runfile, go):
    """Compares the epoch in float64 and float32 with Go's totals in the
    same precision; returns the exit status."""
    rel = lambda a, b: abs(a - b) / abs(b)
    status = 0
    for name, sfx, tol_loss, tol_grad in CHECKS:
        ep = Epoch(runfile, go, getattr(torch, name))
        ld, lep, loss = ep.run()
        g = ep.theta.grad.double().numpy()
        gref = np.asarray(go["grad" + sfx])
        relg = np.linalg.norm(g - gref) / np.linalg.norm(gref)
        print(f"check {name}: sum L_D  torch {ld:.15g}  go {go['loss_data' + sfx]:.15g}  rel {rel(ld, go['loss_data' + sfx]):.2e}")
        print(f"check {name}: sum L_EP torch {lep:.15g}  go {go['loss_ep' + sfx]:.15g}  rel {rel(lep, go['loss_ep' + sfx]):.2e}")
        print(f"check {name}: sum L    torch {loss:.15g}  go {go['loss' + sfx]:.15g}  rel {rel(loss, go['loss' + sfx]):.2e}")
        print(f"check {name}: gradient rel err {relg:.2e} ({g.size} parameters)")
        ok = max(rel(ld, go["loss_data" + sfx]), rel(lep, go["loss_ep" + sfx]), rel(loss, go["loss" + sfx])) <= tol_loss and relg <= tol_grad
        print(f"check {name}: " + (f"ok (losses ≤ {tol_loss:g}, gradient ≤ {tol_grad:g} relative)" if ok else "FAILED"))
        status |= 0 if ok else 1
    return status


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runfile")
    ap.add_argument("go_json")
    ap.add_argument("dtype", nargs="?", default="float32", choices=["float32", "float64"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--device", default="cpu", help="torch device of the timed epoch (cpu, cuda)")
    a = ap.parse_args()
    with open(a.go_json) as f:
        go = json.load(f)
    if a.check:
        return check(a.runfile, go)
    dtype = getattr(torch, a.dtype)
    ep = Epoch(a.runfile, go, dtype, a.device)
    ep.run()  # warm-up
    dts = []
    for r in range(a.repeats):
        t0 = time.perf_counter()
        ep.run()
        dts.append(time.perf_counter() - t0)
        print(f"repeat {r}: {dts[-1] * 1e3:.0f} ms")
    mean = sum(dts) / len(dts)
    print(f"torch {a.dtype} {a.device} eandarn epoch ({ep.n} x {ep.T} points, {len(ep.batches)} batches of {ep.B} frames): "
          f"mean {mean * 1e3:.0f} ms/epoch, best {min(dts) * 1e3:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
