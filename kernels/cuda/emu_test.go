//go:build !cuda

package cuda

import (
	"slices"
	"strings"
	"testing"
)

// The tests of this package run on the emulator here and on the GPU under
// -tags cuda (gpu_test.go): testBackend names the registered backend,
// testDevice opens a device.
const testBackend = "emulator"

func init() { RegisterEmulator() }

func testDevice(t testing.TB) Device {
	d := NewEmulator()
	t.Cleanup(func() { d.Close() })
	return d
}

// TestEmulatorKernelTable: the emulator's table (kernels.inc) names exactly
// the extern "C" __global__ functions of the .cu sources.
func TestEmulatorKernelTable(t *testing.T) {
	src, err := sourceKernels()
	if err != nil {
		t.Fatal(err)
	}
	tab := emulatorKernels()
	slices.Sort(tab)
	if !slices.Equal(src, tab) {
		t.Errorf("kernels.inc lists %v\nthe sources define %v", tab, src)
	}
}

// TestEmulatorRefuses: launches a GPU would refuse, wrong argument counts,
// unknown kernels and divergent barriers are errors, not crashes.
func TestEmulatorRefuses(t *testing.T) {
	d := testDevice(t)
	out := mustAlloc[int64](t, d, 64)
	for _, c := range []struct {
		name        string
		kernel      string
		grid, block Dim
		shared      int
		args        []Arg
		want        string
	}{
		{"unknown", "no_such_kernel", Dim{X: 1}, Dim{X: 1}, 0, Args(P(out)), "no such kernel"},
		{"arguments", "selftest_barrier", Dim{X: 1}, Dim{X: 1}, 0, Args(P(out)), "takes 2 arguments, got 1"},
		{"block", "selftest_indices", Dim{X: 1}, Dim{X: 1025}, 0, Args(P(out)), "outside the device limits"},
		{"grid", "selftest_indices", Dim{X: 1, Y: 65536}, Dim{X: 1}, 0, Args(P(out)), "outside the device limits"},
		{"shared", "selftest_reverse", Dim{X: 1}, Dim{X: 1}, 48*1024 + 1, Args(P(out), P(out)), "above 48 KiB"},
		{"divergent", "selftest_divergent", Dim{X: 1}, Dim{X: 4}, 0, Args(P(out)), "wait at different __syncthreads"},
	} {
		err := d.Launch(c.kernel, c.grid, c.block, c.shared, c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestEmulatorMemory: copies outside an allocation and double frees are
// errors.
func TestEmulatorMemory(t *testing.T) {
	d := testDevice(t)
	p := mustAlloc[float32](t, d, 4)
	if err := Put(d, p+8, []float32{1, 2, 3}); err == nil {
		t.Error("copy past the end of an allocation: no error")
	}
	if err := Put(d, p+8, []float32{1, 2}); err != nil {
		t.Errorf("copy into the last 8 bytes: %v", err)
	}
	if got := mustGet[float32](t, d, p, 4); !slices.Equal(got, []float32{0, 0, 1, 2}) {
		t.Errorf("memory %v, want [0 0 1 2] (zeroed, then the copy)", got)
	}
	if err := d.Free(p); err != nil {
		t.Fatal(err)
	}
	if err := d.Free(p); err == nil {
		t.Error("double free: no error")
	}
}

// TestSelfEarlyExit: threads that return before a barrier do not hold back
// the threads that wait at it.
func TestSelfEarlyExit(t *testing.T) {
	d := testDevice(t)
	const blocks, bs, keep = 2, 64, 10
	out := mustPut(t, d, make([]int64, blocks*bs))
	mustLaunch(t, d, "selftest_early_exit", Dim{X: blocks}, Dim{X: bs}, 0, P(out), I(keep))
	got := mustGet[int64](t, d, out, blocks*bs)
	for b := range blocks {
		for i := range bs {
			want := int64(0)
			if i < keep {
				want = keep * (keep + 1) / 2
			}
			if got[b*bs+i] != want {
				t.Fatalf("block %d thread %d: %d, want %d", b, i, got[b*bs+i], want)
			}
		}
	}
}
