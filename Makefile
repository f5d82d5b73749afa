# eandarn — make targets (see README.md):
#   deps      check/install system packages and Go >= 1.26 (installs only as root, only what is missing)
#   build     binaries into bin/ with the version from git describe
#   dataset   make or reuse the default dataset in EANDARN_CACHE
#   test      deps + go vet ./... + go test ./...
#   run       default dataset (cached) -> tikhonov2, stre, ... at σ = 0.01 -> table and HTML report; results in out/
#   fmt       gofmt -w
#   lint      gofmt -l (must be empty) + go vet
#   bench     every benchmark, no tests
#   bench-epoch  one eandarn training epoch: Go vs PyTorch float32/float64 (same data, same run)
#   accuracy  the long accuracy tests (EANDARN_ACCURACY=1)
#   fuzz      each fuzz target for FUZZTIME (default 1m; not in make test)

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

APT_PACKAGES := libhdf5-dev hdf5-tools pkg-config python3-torch python3-numpy python3-h5py \
                slurmctld slurmd slurm-client munge chromium
GO_MIN_MINOR := 26

.PHONY: deps build dataset test run fmt lint bench bench-epoch accuracy fuzz

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

# accuracy: the long accuracy runs behind EANDARN_ACCURACY=1 (about 35 min on
# 2 cores): Tikhonov-2/STRE on the default dataset, eandarn at σ = 0.01 and
# 0.1 over 3 seeds against both baselines, the four PINN variants
# (EANDARN_ACCURACY_SEEDS seeds, default 3) and the bad-initialization rates.
accuracy:
	EANDARN_ACCURACY=1 $(GO) test -run 'Accuracy|BadInitRates' -v -timeout 3h ./solver/...

# fuzz: each fuzz target in turn for FUZZTIME (go test -fuzz runs one
# target at a time); its seeds run in every go test. Inputs that fail are
# written to the package's testdata/fuzz/ for go test to replay.
FUZZTIME ?= 1m
FUZZ_TARGETS := ./io/npy:FuzzParseHeader ./io/npy:FuzzRead ./io/h5:FuzzDeclared \
                ./io/runfile:FuzzDeclared ./io/runfile:FuzzValidate \
                ./slurm:FuzzParse ./slurm:FuzzSbatch

fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; echo "fuzz: $$name ($$pkg) for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $$pkg || exit 1; \
	done
