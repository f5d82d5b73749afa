#!/usr/bin/python3
"""PyTorch timing of the computation of solver/nn's BenchmarkEpochNN6FullGrid.

Forward + backward of the ARN NN6 (10 layers x 15, 3 adaptive residual blocks, Eq. 11)
over the full grid of 1094 x 661 = 723,134 points [x, y, z, t] -> [u, v], with a fixed
output adjoint, on 2 threads. Usage: torch_bench.py [float32|float64] [repeats]
Prints one line per repeat and the best time in ms.
"""
import sys
import time

import torch

torch.set_num_threads(2)
dtype = {"float32": torch.float32, "float64": torch.float64}[sys.argv[1] if len(sys.argv) > 1 else "float32"]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
npts, width, blocks = 1094 * 661, 15, 3


class ARN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.first = torch.nn.Linear(4, width)
        self.blocks = torch.nn.ModuleList(
            torch.nn.ModuleList([torch.nn.Linear(width, width), torch.nn.Linear(width, width)]) for _ in range(blocks))
        self.between = torch.nn.ModuleList(torch.nn.Linear(width, width) for _ in range(blocks - 1))
        self.alpha_t = torch.nn.Parameter(torch.zeros(blocks))
        self.last = torch.nn.Linear(width, 2)

    def forward(self, x):
        h = torch.tanh(self.first(x))
        for b, (l1, l2) in enumerate(self.blocks):
            if b > 0:
                h = torch.tanh(self.between[b - 1](h))
            h2 = torch.tanh(l2(torch.tanh(l1(h))))
            a = torch.sigmoid(self.alpha_t[b])
            h = (1 - a) * h2 + a * h
        return self.last(h)


torch.manual_seed(0)
net = ARN().to(dtype)
x = torch.rand(npts, 4, dtype=dtype) * 2 - 1
dy = torch.randn(npts, 2, dtype=dtype)
best = float("inf")
for r in range(repeats):
    t0 = time.perf_counter()
    net.zero_grad()
    y = net(x)
    y.backward(dy)
    dt = time.perf_counter() - t0
    best = min(best, dt)
    print(f"repeat {r}: {dt * 1e3:.0f} ms")
print(f"torch {dtype} NN6 forward+backward over {npts} points: best {best * 1e3:.0f} ms/epoch")
