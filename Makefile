# eandarn — make targets (see README.md):
#   deps      check/install system packages and Go >= 1.26 (installs only as root, only what is missing)
#   build     binaries into bin/ with the version from git describe
#   dataset   make or reuse the default dataset in EANDARN_CACHE
#   test      deps + go vet ./... + go test ./... + cuda-check (when the CUDA toolkit installs)
#   run       default dataset (cached) -> tikhonov2, stre, ... at σ = 0.01 -> table and HTML report; results in out/
#   fmt       gofmt -w
#   lint      gofmt -l (must be empty) + go vet
#   bench     every benchmark, no tests
#   bench-epoch  one eandarn training epoch: Go vs PyTorch float32/float64 (same data, same run)
#   accuracy  the long accuracy tests (EANDARN_ACCURACY=1), with the realistic-anatomy suite
#   bench-time-to-accuracy  eandarn's RE against wall-clock under time budgets (EANDARN_TTA_BUDGETS)
#   fuzz      each fuzz target for FUZZTIME (default 1m; not in make test)
#   deps-cuda Debian's nvidia-cuda-toolkit 11.8 (non-free) without editing the system's apt sources
#   ptx       nvcc: kernels/cuda/*.cu -> PTX for compute_80 and compute_90 (committed, go:embed)
#   cuda      the GPU binaries (-tags cuda) into bin/
#   cuda-check  PTX up to date, go vet and go build with -tags cuda against the stub libcuda
#   gpu-check   GPU test and benchmark binaries + libraries + run.sh in one folder for a GPU node

SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

GO      ?= go
MODULE  := github.com/eandarn/eandarn
VERSION ?= $(or $(shell git describe --tags --always --dirty 2>/dev/null),devel)
LDFLAGS := -X $(MODULE)/cmd/internal/cli.Version=$(VERSION)
BIN     := bin

# make run: where the default dataset is cached (keyed by a hash of its
# generation parameters and the version), where results go, and what runs.
EANDARN_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/eandarn
RUN_OUT       ?= out
RUN_NOISE     ?= 0.01
RUN_SEED      ?= 1
RUN_METHODS   ?= tikhonov2 stre eandarn

APT_PACKAGES := g++ libhdf5-dev hdf5-tools pkg-config python3-torch python3-numpy python3-h5py \
                slurmctld slurmd slurm-client munge chromium
GO_MIN_MINOR := 26

.PHONY: deps build dataset test run fmt lint bench bench-epoch accuracy bench-time-to-accuracy fuzz

deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "deps: installing$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing \
	      || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; } \
	      || { echo "deps: apt-get install failed for:$$missing" >&2; exit 1; }; \
	  else \
	    echo "deps: missing Debian packages; install them with:"; \
	    echo "  sudo apt-get install -y --no-install-recommends$$missing"; \
	  fi; \
	fi; \
	if ! command -v $(GO) >/dev/null; then \
	  echo "deps: Go >= 1.$(GO_MIN_MINOR) not found at /usr/local/go/bin or on PATH; install it from https://go.dev/dl/ into /usr/local/go" >&2; exit 1; \
	fi; \
	v=$$($(GO) env GOVERSION); minor=$$(echo "$$v" | sed -n 's/^go1\.\([0-9]*\).*/\1/p'); \
	if [ -z "$$minor" ] || [ "$$minor" -lt $(GO_MIN_MINOR) ]; then \
	  echo "deps: $$v found, need Go >= 1.$(GO_MIN_MINOR) (install from https://go.dev/dl/ into /usr/local/go)" >&2; exit 1; \
	fi

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

test: deps
	$(GO) vet ./...
	$(GO) test ./...
	@log=$$(mktemp) && trap 'rm -f $$log' EXIT; \
	if $(MAKE) -s deps-cuda >$$log 2>&1; then $(MAKE) -s cuda-check; \
	else echo "cuda-check: skipped: the CUDA toolkit cannot be installed here ($$(tail -n 1 $$log))"; fi

# dataset: make or reuse the default dataset in EANDARN_CACHE and record its
# path in $(RUN_OUT)/dataset.path for run and bench-epoch.
dataset: build
	@mkdir -p $(RUN_OUT) $(EANDARN_CACHE)
	@set -o pipefail; \
	data=$$($(BIN)/eandarn-synth -cache $(EANDARN_CACHE) | sed -n 's/.*"out":"\([^"]*\)".*/\1/p') \
	  && [ -n "$$data" ] || { echo "dataset: eandarn-synth failed" >&2; exit 1; }; \
	echo "dataset: $$data"; echo "$$data" > $(RUN_OUT)/dataset.path

# run: generate or reuse the default dataset, then run each method of
# RUN_METHODS at σ = RUN_NOISE, print a table from their JSON lines and
# write the HTML report of their results (and its figures as PNG files).
run: dataset
	@set -o pipefail; data=$$(cat $(RUN_OUT)/dataset.path); \
	: > $(RUN_OUT)/summary.jsonl; \
	for m in $(RUN_METHODS); do \
	  $(BIN)/eandarn-batch -in "$$data" -out $(RUN_OUT)/$$m.h5 -method $$m \
	    -noise $(RUN_NOISE) -seed $(RUN_SEED) >> $(RUN_OUT)/summary.jsonl || exit 1; \
	done; \
	awk 'function f(k) { if (!match($$0, "\"" k "\":[^,}]*")) return "null"; \
	                     return substr($$0, RSTART + length(k) + 3, RLENGTH - length(k) - 3) } \
	     function num(k, fmt) { return f(k) == "null" ? "-" : sprintf(fmt, f(k)) } \
	     BEGIN { printf "\n%-10s %8s %8s %10s %9s\n", "method", "RE", "CC", "MSE", "seconds" } \
	     { m = f("method"); gsub(/"/, "", m); \
	       printf "%-10s %8s %8s %10s %9s\n", m, num("re", "%.4f"), num("cc", "%.4f"), num("mse", "%.3g"), num("seconds", "%.1f") }' \
	  $(RUN_OUT)/summary.jsonl; \
	files=$$(for m in $(RUN_METHODS); do printf '%s,' $(RUN_OUT)/$$m.h5; done); rm -rf $(RUN_OUT)/figures; \
	$(BIN)/eandarn-report -html "$${files%,}" -out $(RUN_OUT)/report.html -png $(RUN_OUT)/figures -log-level warn > /dev/null || exit 1; \
	echo; echo "results: $(RUN_OUT)/*.h5, JSON lines: $(RUN_OUT)/summary.jsonl, figures: $(RUN_OUT)/figures/"; \
	echo "report: $(RUN_OUT)/report.html (open it in a browser: it is one self-contained file)"

fmt:
	gofmt -w .

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . ./...

# bench-epoch: one full-grid eandarn training epoch (NN6, 1094 x 661 points,
# contiguous 8-frame batches, data + ND physics loss, forward + backward) in
# Go with float32 and float64 network passes (BenchmarkEpochEANDARNFloat32,
# BenchmarkEpochEANDARN) and in PyTorch float32 and float64 on 2 threads
# (testdata/pinn/torch_epoch_bench.py), back to back on the cached default
# dataset, then ms/epoch and the ratios, each precision against its own.
# First TestEpochExport hands Go's initial weights and epoch losses and
# gradients in both precisions to the script, whose --check requires the
# same loss and gradient (relative 1e-10 / 1e-9 in float64, 1e-6 / 1e-5 in
# float32).
PYTHON ?= /usr/bin/python3

bench-epoch: dataset
	@set -o pipefail; data=$$(cat $(RUN_OUT)/dataset.path); \
	EANDARN_EPOCH_DATA=$$(realpath "$$data") EANDARN_EPOCH_EXPORT=$$(realpath $(RUN_OUT))/epoch_go.json \
	  $(GO) test -count=1 -run '^TestEpochExport$$' ./solver/pinn || exit 1; \
	$(PYTHON) testdata/pinn/torch_epoch_bench.py "$$data" $(RUN_OUT)/epoch_go.json --check || exit 1; \
	echo "load before timing: $$(cut -d' ' -f1-3 /proc/loadavg)"; \
	gob=$$($(GO) test -run '^$$' -bench 'EpochEANDARN(Float32)?$$' -benchtime 3x ./solver/pinn) || { echo "$$gob"; exit 1; }; \
	echo "$$gob"; \
	t32=$$($(PYTHON) testdata/pinn/torch_epoch_bench.py "$$data" $(RUN_OUT)/epoch_go.json float32) || exit 1; \
	echo "$$t32"; \
	t64=$$($(PYTHON) testdata/pinn/torch_epoch_bench.py "$$data" $(RUN_OUT)/epoch_go.json float64) || exit 1; \
	echo "$$t64"; \
	echo "load after timing: $$(cut -d' ' -f1-3 /proc/loadavg)"; \
	g64=$$(echo "$$gob" | awk '/^BenchmarkEpochEANDARN(-[0-9]+)?[ \t]/ { print $$3 / 1e6 }'); \
	g32=$$(echo "$$gob" | awk '/^BenchmarkEpochEANDARNFloat32(-[0-9]+)?[ \t]/ { print $$3 / 1e6 }'); \
	f32=$$(echo "$$t32" | sed -n 's/.* mean \([0-9.]*\) ms.*/\1/p'); \
	f64=$$(echo "$$t64" | sed -n 's/.* mean \([0-9.]*\) ms.*/\1/p'); \
	awk -v g32="$$g32" -v g64="$$g64" -v a="$$f32" -v b="$$f64" 'BEGIN { \
	  printf "\n%-24s %10s  %s\n", "epoch (eandarn NN6)", "ms/epoch", "x slower than Go (same precision)"; \
	  printf "%-24s %10.0f  %5s\n", "Go float32", g32, "1.00"; \
	  printf "%-24s %10.0f  %5.2f\n", "PyTorch float32", a, a / g32; \
	  printf "%-24s %10.0f  %5s\n", "Go float64", g64, "1.00"; \
	  printf "%-24s %10.0f  %5.2f\n", "PyTorch float64", b, b / g64 }'

# accuracy: the long accuracy runs behind EANDARN_ACCURACY=1: Tikhonov-2/STRE
# on the default dataset, eandarn at σ = 0.01 and 0.1 over 3 seeds against
# both baselines, the EP-DL variants and eandarn's paper configuration
# (EANDARN_ACCURACY_SEEDS seeds, default 3), the bad-initialization rates and
# eandarn -ensemble 3 at σ = 0.01 over the same seeds (TestAccuracyEnsemble,
# about 12 min a seed): about 2 hours on 2 cores, estimated from the runs;
# then bench-time-to-accuracy (below, about 18 min); then the realistic-anatomy suite on the ECGSim ventricles of ../shared/data
# (cmd/eandarn-batch TestAccuracyRealistic; skipped with a message without
# the data; hours in full: EANDARN_SUITE_SITES, _NOISE, _SEEDS, _METHODS,
# _ENSEMBLE, _PINN and _OUT choose a subset, README "Realistic anatomy"),
# and on the Utah torso-tank heart (TestAccuracyRealisticUtah: 3 pacing
# sites, σ 0.05, the seeds of EANDARN_SUITE_SEEDS; about 30 minutes) and
# on the FwdInv heart with its subject's matrix, which barely sees 44 of its
# nodes (TestAccuracyWeaklySeen: σ 0.02, the same seeds; about 25 minutes a
# seed).
accuracy:
	EANDARN_ACCURACY=1 $(GO) test -run 'Accuracy|BadInitRates' -v -timeout 3h ./solver/...
	$(MAKE) bench-time-to-accuracy
	EANDARN_ACCURACY=1 $(GO) test -run 'TestAccuracyRealistic|TestAccuracyWeaklySeen' -v -timeout 24h ./cmd/eandarn-batch

# bench-time-to-accuracy: eandarn with default settings on the default
# dataset (σ = 0.01) under each -time-budget of EANDARN_TTA_BUDGETS (default
# 1m,2m,5m,10m: about 18 minutes) for the seeds of EANDARN_TTA_SEEDS
# (default 1): final RE, epochs, and the RE monitor at 1, 2, 5, 10 minutes.
bench-time-to-accuracy:
	EANDARN_TTA=1 $(GO) test -run '^$$' -bench '^BenchmarkTimeToAccuracy$$' -benchtime 1x -timeout 24h ./solver/pinn

# fuzz: each fuzz target in turn for FUZZTIME (go test -fuzz runs one
# target at a time); its seeds run in every go test. Inputs that fail are
# written to the package's testdata/fuzz/ for go test to replay.
FUZZTIME ?= 1m
FUZZ_TARGETS := ./io/npy:FuzzParseHeader ./io/npy:FuzzRead ./io/h5:FuzzDeclared ./io/matfile:FuzzRead \
                ./io/runfile:FuzzDeclared ./io/runfile:FuzzValidate \
                ./slurm:FuzzParse ./slurm:FuzzSbatch

fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; echo "fuzz: $$name ($$pkg) for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $$pkg || exit 1; \
	done

# deps-cuda: Debian's nvidia-cuda-toolkit 11.8 is in the non-free component.
# The system's apt sources stay untouched: a private copy of them with the
# non-free components and a private list folder under CUDA_APT are passed to
# apt-get with -o (../shared/ENVIRONMENT.md). Idempotent: nothing happens
# when both packages are installed. Needs root (prints the reason otherwise).
CUDA_APT     ?= $(EANDARN_CACHE)/apt-nonfree
CUDA_PKGS    := nvidia-cuda-toolkit nvidia-cuda-dev
CUDA_APT_OPT  = -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$(CUDA_APT)/sp -o Dir::State::Lists=$(CUDA_APT)/lists \
               -o APT::Sandbox::User=root

.PHONY: deps-cuda
deps-cuda:
	@missing=""; \
	for p in $(CUDA_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	  echo "deps-cuda: missing$$missing and not root with apt-get (run make deps-cuda as root)" >&2; exit 1; \
	fi; \
	src=/etc/apt/sources.list.d/debian.sources; \
	[ -r $$src ] || { echo "deps-cuda: $$src not found (not a Debian 12 apt layout)" >&2; exit 1; }; \
	mkdir -p $(CUDA_APT)/sp $(CUDA_APT)/lists/partial && \
	sed 's/^Components:.*/Components: main contrib non-free non-free-firmware/' $$src > $(CUDA_APT)/sp/debian.sources && \
	echo "deps-cuda: installing$$missing (about 1.6 GB download, 5.5 GB on disk)" && \
	apt-get $(CUDA_APT_OPT) update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get $(CUDA_APT_OPT) install -y -qq --no-install-recommends $$missing >/dev/null \
	  || { echo "deps-cuda: apt-get install of$$missing failed" >&2; exit 1; }

# ptx: every kernels/cuda/*.cu to PTX for compute_80 and compute_90 (nvcc of
# Debian's toolkit 11.8: PTX ISA 7.8, which the drivers of both generations
# JIT-compile), into PTX_OUT (the committed kernels/cuda/ptx, embedded with
# go:embed in the -tags cuda build), with the sha256 of the sources that
# TestPTXUpToDate compares (so a stale PTX fails go test even without nvcc).
NVCC       ?= nvcc
CUDA_DIR   := kernels/cuda
CUDA_ARCHS := 80 90
PTX_OUT    ?= $(CUDA_DIR)/ptx
CUDA_STUBS ?= /usr/lib/x86_64-linux-gnu/stubs

.PHONY: ptx cuda cuda-check
ptx:
	@command -v $(NVCC) >/dev/null || { echo "ptx: $(NVCC) not found (make deps-cuda installs it)" >&2; exit 1; }
	@mkdir -p $(PTX_OUT) && rm -f $(PTX_OUT)/*.ptx
	@for f in $(CUDA_DIR)/*.cu; do n=$$(basename $$f .cu); \
	  for a in $(CUDA_ARCHS); do \
	    $(NVCC) -ptx -O3 -std=c++17 -arch=compute_$$a -o $(PTX_OUT)/$$n.compute_$$a.ptx $$f || exit 1; \
	  done; \
	done
	@cd $(CUDA_DIR) && LC_ALL=C sha256sum *.cu *.cuh > $(abspath $(PTX_OUT))/SOURCES.sha256

# cuda: the GPU build of eandarn-batch (bin/eandarn-batch-cuda), linked
# against the toolkit's stub libcuda; it needs only the node's driver library
# (libcuda.so.1) at run time. bin/eandarn-batch starts it when -device picks
# a GPU (README: GPU).
cuda: build
	CGO_LDFLAGS="-L$(CUDA_STUBS)" $(GO) build -tags cuda -ldflags "$(LDFLAGS)" -o $(BIN)/eandarn-batch-cuda ./cmd/eandarn-batch

# cuda-check: the checks of the CUDA build that need no GPU: the committed PTX
# equals a fresh make ptx, ptxas accepts it for sm_80 and sm_90, and go vet
# and go build with -tags cuda pass against the stub libcuda.
cuda-check:
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	$(MAKE) -s ptx PTX_OUT=$$tmp && \
	{ diff -r -q $$tmp $(CUDA_DIR)/ptx || { echo "cuda-check: $(CUDA_DIR)/ptx is stale: run make ptx and commit it" >&2; exit 1; }; } && \
	for a in $(CUDA_ARCHS); do \
	  for f in $(CUDA_DIR)/ptx/*.compute_$$a.ptx; do ptxas -arch=sm_$$a -o /dev/null $$f || exit 1; done; \
	done
	CGO_LDFLAGS="-L$(CUDA_STUBS)" $(GO) vet -tags cuda ./...
	CGO_LDFLAGS="-L$(CUDA_STUBS)" $(GO) build -tags cuda -o /dev/null ./...
	@echo "cuda-check: ok (PTX up to date, ptxas sm_80/sm_90, go vet and go build -tags cuda)"

# gpu-check: a folder (and GPU_CHECK.tar.gz) to copy to a GPU node that has
# no Go: the device test binaries (go test -c -tags cuda of kernels/cuda and
# solver/pinn), the CPU and CUDA builds of eandarn-batch and eandarn-synth,
# the shared libraries they load from this machine (HDF5 and its
# dependencies; not glibc, never libcuda: the node's driver library is used),
# the PyTorch epoch script and kernels/cuda/gpu-check.sh as run.sh. On the
# node: gpu-check/run.sh [RESULTS_DIR] (README: GPU).
GPU_CHECK ?= $(RUN_OUT)/gpu-check
.PHONY: gpu-check
gpu-check: deps-cuda build cuda
	@rm -rf $(GPU_CHECK) && mkdir -p $(GPU_CHECK)/bin $(GPU_CHECK)/lib $(GPU_CHECK)/torch
	CGO_LDFLAGS="-L$(CUDA_STUBS)" $(GO) test -c -tags cuda -o $(GPU_CHECK)/bin/kernels-cuda.test ./kernels/cuda
	CGO_LDFLAGS="-L$(CUDA_STUBS)" $(GO) test -c -tags cuda -o $(GPU_CHECK)/bin/pinn.test ./solver/pinn
	cp $(BIN)/eandarn-batch $(BIN)/eandarn-batch-cuda $(BIN)/eandarn-synth $(GPU_CHECK)/bin/
	@for f in $(GPU_CHECK)/bin/*; do ldd $$f; done | awk '$$2 == "=>" && $$3 ~ /^\// { print $$3 }' | sort -u | \
	  grep -v -E '/(libc|libm|libdl|libpthread|librt|libresolv|libcuda)\.so' | \
	  while read -r l; do cp -L "$$l" $(GPU_CHECK)/lib/; done
	cp testdata/pinn/torch_epoch_bench.py testdata/pinn/crosscheck.py $(GPU_CHECK)/torch/
	install -m 755 $(CUDA_DIR)/gpu-check.sh $(GPU_CHECK)/run.sh
	tar czf $(GPU_CHECK).tar.gz -C $(dir $(abspath $(GPU_CHECK))) $(notdir $(GPU_CHECK))
	@echo "gpu-check: $(GPU_CHECK).tar.gz ($$(du -h $(GPU_CHECK).tar.gz | cut -f1)); on a GPU node: tar xzf gpu-check.tar.gz && gpu-check/run.sh"
