#!/bin/bash
# gpu-check: the checks of eandarn's CUDA backend that need a GPU, packed by
# `make gpu-check` (on a machine with Go and the CUDA toolkit) into one folder
# with the test binaries, the eandarn binaries, the shared libraries they need
# (HDF5 and its dependencies; never libcuda: the node's driver library is
# used) and this script. On a GPU node without Go:
#
#     tar xzf gpu-check.tar.gz && gpu-check/run.sh [RESULTS_DIR]
#
# It runs, each stage with its own time limit, within a 470 s budget:
#   1. the conformance suite and the kernel tests on the device
#      (kernels-cuda.test: kerneltest on the cuda backend, the execution-model
#      self-tests, the network passes against the CPU backend), and a training
#      step and a 3-epoch training against the CPU (pinn.test);
#   2. a default eandarn run on the GPU, twice (the two reconstructions must
#      be bit-identical), and the same run on the CPU (RE within 5%);
#   3. the training-step and epoch benchmarks on the device (pinn.test);
#   4. the same epoch in PyTorch on the same GPU, where python3 has torch
#      with CUDA (torch_epoch_bench.py --device cuda);
# and prints one summary table (also in RESULTS_DIR/summary.txt). Exit
# status 0 when every check that ran passed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/results}
mkdir -p "$OUT"
# The packed libraries go to the packed binaries only (python3 keeps the
# node's own).
LIBS="$HERE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
BIN=$HERE/bin
packed() { LD_LIBRARY_PATH=$LIBS "$@"; }
PY=${PYTHON:-python3}
status=0
rows=()
row() { rows+=("$(printf '%-44s %-16s %s' "$1" "$2" "$3")"); }
fail() { status=1; }
t0=$SECONDS
log() { echo "[gpu-check $((SECONDS - t0)) s] $*" >&2; }
# cap N: a stage's time limit, N seconds or what is left of the 470 s budget
# (the whole script stays under 8 minutes; a stage cut short fails).
cap() {
	local left=$((470 - (SECONDS - t0)))
	echo $((left < $1 ? (left > 1 ? left : 1) : $1))
}

# The JSON field $2 of the one-line summary in file $1.
field() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" "$1" | tr -d '"'; }

log "node: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
ldd --version 2>/dev/null | head -1 | grep -qE '2\.(3[4-9]|[4-9][0-9])' ||
	log "warning: the binaries need glibc >= 2.34 ($(ldd --version 2>/dev/null | head -1))"

# 1. Conformance suite and kernel tests on the device.
log "conformance suite on the device"
if packed timeout "$(cap 150)" "$BIN/kernels-cuda.test" -test.count=1 -test.v >"$OUT/conformance.log" 2>&1; then
	row "conformance + kernel tests (device)" "PASS" "$(grep -c '^--- PASS' "$OUT/conformance.log") top-level tests"
else
	row "conformance + kernel tests (device)" "FAIL" "see conformance.log: $(grep -m1 -E '^\s*--- FAIL|panic|Error' "$OUT/conformance.log")"
	fail
fi

# The training step on the device against the CPU backend (float32
# tolerances; see solver/pinn/device_test.go), run-to-run identical training,
# and every registered backend's step against the CPU in float64.
log "training step and short training on the device against the CPU"
if packed timeout "$(cap 90)" "$BIN/pinn.test" -test.count=1 -test.v \
	-test.run '^(TestStepOnDeviceAgreesWithCPU|TestTrainOnDevice|TestStepOnBackends)$' >"$OUT/step.log" 2>&1; then
	row "training step + 3 epochs, device vs CPU" "PASS" "$(grep -m1 -o 'weights [^,]*, losses [^ ]* relative' "$OUT/step.log")"
else
	row "training step + 3 epochs, device vs CPU" "FAIL" "see step.log: $(grep -m1 -E '^\s*--- FAIL|panic|Error' "$OUT/step.log")"
	fail
fi

# 2. Default eandarn runs: GPU twice, CPU once, on the default dataset.
log "default dataset"
data=$OUT/default.h5
packed "$BIN/eandarn-synth" -out "$data" >"$OUT/synth.json" 2>"$OUT/synth.log" || { log "eandarn-synth failed"; fail; }
run() { # run NAME DEVICE LIMIT: one default eandarn run, JSON line in NAME.json
	packed timeout "$(cap "$3")" "$BIN/eandarn-batch" -in "$data" -out "$OUT/$1.h5" -method eandarn -device "$2" \
		>"$OUT/$1.json" 2>"$OUT/$1.log"
}
for r in gpu1 gpu2; do
	log "eandarn on the GPU ($r)"
	run $r cuda 60 || { row "eandarn run on the GPU ($r)" "FAIL" "$(tail -n 1 "$OUT/$r.log")"; fail; }
done
if [ -s "$OUT/gpu1.json" ]; then
	s=$(field "$OUT/gpu1.json" total_seconds)
	row "eandarn default run, GPU: seconds" "$s" "target <= 30 s; $(field "$OUT/gpu1.json" device_name)"
	if [ -s "$OUT/gpu2.json" ]; then
		same=$("$PY" - "$OUT/gpu1.h5" "$OUT/gpu2.h5" <<'EOF' 2>/dev/null
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
print("yes" if all(np.array_equal(a[k][()], b[k][()]) for k in ("reconstruction/u", "reconstruction/v")) else "no")
EOF
		)
		if [ -z "$same" ]; then # no h5py: compare the metrics, printed exactly
			same=no
			[ "$(field "$OUT/gpu1.json" re)/$(field "$OUT/gpu1.json" cc)" = "$(field "$OUT/gpu2.json" re)/$(field "$OUT/gpu2.json" cc)" ] && same="yes (RE, CC)"
		fi
		row "GPU run-to-run identical" "$same" "reconstruction/u, v of two runs"
		case $same in yes*) ;; *) fail ;; esac
	fi
fi
log "eandarn on the CPU"
if run cpu cpu 150; then
	row "eandarn default run, CPU: seconds" "$(field "$OUT/cpu.json" total_seconds)" "$(nproc) cores"
	if [ -s "$OUT/gpu1.json" ]; then
		rg=$(field "$OUT/gpu1.json" re) rc=$(field "$OUT/cpu.json" re)
		ok=$(awk -v g="$rg" -v c="$rc" 'BEGIN { d = (g - c) / c; if (d < 0) d = -d; printf "%s %.2f%%", (d <= 0.05 ? "PASS" : "FAIL"), 100 * d }')
		row "RE GPU vs CPU (within 5%)" "${ok%% *}" "GPU $rg, CPU $rc, difference ${ok#* }"
		[ "${ok%% *}" = PASS ] || fail
	fi
else
	row "eandarn run on the CPU" "FAIL" "$(tail -n 1 "$OUT/cpu.log")"
	fail
fi

# 3. Step and epoch benchmarks on the device.
log "benchmarks on the device"
EANDARN_DEVICE=cuda packed timeout "$(cap 100)" "$BIN/pinn.test" -test.run '^$' \
	-test.bench '^Benchmark(StepEANDARN|EpochEANDARNFloat32)$' -test.benchtime 2s -test.count=1 \
	>"$OUT/bench.log" 2>&1 || fail
step=$(awk '/^BenchmarkStepEANDARN/ { printf "%.3f", $3 / 1e6 }' "$OUT/bench.log")
epoch=$(awk '/^BenchmarkEpochEANDARNFloat32/ { printf "%.1f", $3 / 1e6 }' "$OUT/bench.log")
row "training step, 8 frames, NN6, ND (ms)" "${step:-FAIL}" "target <= 0.5 ms"
row "epoch, 83 batches of 8 frames (ms)" "${epoch:-FAIL}" "Go on the GPU"

# 4. The same epoch in PyTorch (eager) on the same GPU.
if "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
	log "PyTorch epoch on the GPU"
	EANDARN_EPOCH_DATA=$data EANDARN_EPOCH_EXPORT=$OUT/epoch_go.json packed timeout "$(cap 60)" "$BIN/pinn.test" \
		-test.run '^TestEpochExport$' -test.count=1 >"$OUT/export.log" 2>&1 &&
		timeout "$(cap 120)" "$PY" "$HERE/torch/torch_epoch_bench.py" "$data" "$OUT/epoch_go.json" float32 --device cuda \
			>"$OUT/torch.log" 2>&1
	tms=$(sed -n 's/.* mean \([0-9.]*\) ms.*/\1/p' "$OUT/torch.log")
	row "PyTorch eager epoch, same GPU (ms)" "${tms:-FAIL}" "$("$PY" -c 'import torch; print("torch", torch.__version__)')"
	if [ -n "$tms" ] && [ -n "$epoch" ]; then
		row "Go GPU vs PyTorch eager" "$(awk -v a="$tms" -v b="$epoch" 'BEGIN { printf "%.1fx", a / b }')" "target >= 20x"
	fi
else
	row "PyTorch eager epoch, same GPU" "skipped" "no python3 with torch and CUDA"
fi

{
	echo
	printf '%-44s %-16s %s\n' "check" "result" "notes"
	for r in "${rows[@]}"; do echo "$r"; done
	echo
	echo "gpu-check: $((SECONDS - t0)) s, status $status, logs in $OUT"
} | tee "$OUT/summary.txt"
exit $status
