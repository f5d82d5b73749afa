package cuda

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// kernelDecl matches the declaration of a kernel in the sources.
var kernelDecl = regexp.MustCompile(`extern "C" __global__ void (\w+)\(`)

// sourceKernels returns the names of the kernels of the .cu sources, sorted.
func sourceKernels() ([]string, error) {
	files, err := fs.Glob(sources, "*.cu")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		b, err := sources.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, m := range kernelDecl.FindAllSubmatch(b, -1) {
			names = append(names, string(m[1]))
		}
	}
	slices.Sort(names)
	return names, nil
}

// gpuOnly removes the parts of a source that nvcc does not compile (#ifndef
// __CUDACC__ … #endif, the emulator-only kernels).
var gpuOnly = regexp.MustCompile(`(?s)#ifndef __CUDACC__.*?#endif`)

// TestPTXUpToDate: the committed PTX (kernels/cuda/ptx, made by make ptx) was
// made from the current sources — their sha256 sums are those make ptx
// recorded — and holds, for both architectures, every kernel of every .cu
// file that nvcc compiles. make cuda-check also recompiles and compares.
func TestPTXUpToDate(t *testing.T) {
	if _, err := os.Stat("ptx"); err != nil {
		t.Skip("no ptx folder: the test binary runs outside kernels/cuda (make gpu-check's run.sh); the CUDA build embeds the PTX")
	}
	rec, err := os.ReadFile("ptx/SOURCES.sha256")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(rec)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("ptx/SOURCES.sha256: bad line %q", line)
		}
		want[name] = sum
	}
	files, err := fs.Glob(sources, "*.cu")
	if err != nil {
		t.Fatal(err)
	}
	cuh, _ := fs.Glob(sources, "*.cuh")
	for _, f := range append(files, cuh...) {
		b, err := sources.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(b)); got != want[f] {
			t.Errorf("%s changed since make ptx (sha256 %s, recorded %q): run make ptx and commit kernels/cuda/ptx", f, got, want[f])
		}
		delete(want, f)
	}
	for f := range want {
		t.Errorf("ptx/SOURCES.sha256 lists %s, which is gone: run make ptx", f)
	}
	entry := regexp.MustCompile(`\.entry (\w+)\(`)
	for _, f := range files {
		b, _ := sources.ReadFile(f)
		var kern []string
		for _, m := range kernelDecl.FindAllSubmatch(gpuOnly.ReplaceAll(b, nil), -1) {
			kern = append(kern, string(m[1]))
		}
		slices.Sort(kern)
		for _, arch := range []string{"compute_80", "compute_90"} {
			name := fmt.Sprintf("ptx/%s.%s.ptx", strings.TrimSuffix(f, ".cu"), arch)
			p, err := os.ReadFile(name)
			if err != nil {
				t.Errorf("%v: run make ptx", err)
				continue
			}
			var got []string
			for _, m := range entry.FindAllSubmatch(p, -1) {
				got = append(got, string(m[1]))
			}
			slices.Sort(got)
			if !slices.Equal(got, kern) {
				t.Errorf("%s has kernels %v, %s defines %v", name, got, f, kern)
			}
		}
	}
}
