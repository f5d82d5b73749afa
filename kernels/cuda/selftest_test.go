package cuda

import (
	"math"
	"testing"
)

// mustAlloc allocates n elements of T on d.
func mustAlloc[T Elem](t testing.TB, d Device, n int) Ptr {
	t.Helper()
	var z T
	p, err := d.Alloc(n * int(sizeofElem(z)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustPut[T Elem](t testing.TB, d Device, v []T) Ptr {
	t.Helper()
	p, err := AllocPut(d, v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustGet[T Elem](t testing.TB, d Device, p Ptr, n int) []T {
	t.Helper()
	v := make([]T, n)
	if err := Get(d, v, p); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustLaunch(t testing.TB, d Device, k string, grid, block Dim, shared int, args ...Arg) {
	t.Helper()
	if err := d.Launch(k, grid, block, shared, args); err != nil {
		t.Fatal(err)
	}
}

// TestSelfBarrier: rounds of neighbour exchange through shared memory give
// the closed-form values only if every __syncthreads holds all threads.
func TestSelfBarrier(t *testing.T) {
	d := testDevice(t)
	for _, n := range []int{1, 7, 32, 128} {
		const blocks, rounds = 3, 5
		out := mustAlloc[int64](t, d, blocks*n)
		mustLaunch(t, d, "selftest_barrier", Dim{X: blocks}, Dim{X: n}, 0, P(out), I(rounds))
		got := mustGet[int64](t, d, out, blocks*n)
		// Reference: the same rounds, serially.
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(i)
		}
		for range rounds {
			w := make([]int64, n)
			for i := range v {
				w[i] = v[i] + v[(i+1)%n]
			}
			v = w
		}
		for b := range blocks {
			for i := range n {
				if got[b*n+i] != v[i] {
					t.Fatalf("block size %d: block %d thread %d: got %d, want %d", n, b, i, got[b*n+i], v[i])
				}
			}
		}
	}
}

// TestSelfBlockSum: a shared-memory tree reduction per block.
func TestSelfBlockSum(t *testing.T) {
	d := testDevice(t)
	const n, bs = 1000, 64
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i%17) - 3
	}
	nb := (n + bs - 1) / bs
	out := mustAlloc[float64](t, d, nb)
	mustLaunch(t, d, "selftest_block_sum", Dim{X: nb}, Dim{X: bs}, 0, P(mustPut(t, d, x)), P(out), I(n))
	got := mustGet[float64](t, d, out, nb)
	for b := range nb {
		var want float64
		for i := b * bs; i < min(n, (b+1)*bs); i++ {
			want += x[i]
		}
		if got[b] != want {
			t.Errorf("block %d: sum %g, want %g", b, got[b], want)
		}
	}
}

// TestSelfAtomics: integer and float atomicAdd and atomicMax from every
// thread of several blocks.
func TestSelfAtomics(t *testing.T) {
	d := testDevice(t)
	const blocks, bs = 5, 96
	counts := mustPut(t, d, []int32{0, -1})
	fsum := mustPut(t, d, []float32{0})
	mustLaunch(t, d, "selftest_atomics", Dim{X: blocks}, Dim{X: bs}, 0, P(counts), P(fsum))
	c := mustGet[int32](t, d, counts, 2)
	f := mustGet[float32](t, d, fsum, 1)
	if c[0] != blocks*bs || c[1] != blocks*bs-1 || f[0] != blocks*bs {
		t.Errorf("count %d, max %d, float sum %g; want %d, %d, %d", c[0], c[1], f[0], blocks*bs, blocks*bs-1, blocks*bs)
	}
}

// TestSelfIndices: threadIdx, blockIdx, blockDim and gridDim of a 3-D launch.
func TestSelfIndices(t *testing.T) {
	d := testDevice(t)
	g, b := Dim{3, 2, 2}, Dim{4, 3, 2}
	nt := b.X * b.Y * b.Z
	out := mustAlloc[int64](t, d, g.X*g.Y*g.Z*nt)
	mustLaunch(t, d, "selftest_indices", g, b, 0, P(out))
	got := mustGet[int64](t, d, out, g.X*g.Y*g.Z*nt)
	for bz := range g.Z {
		for by := range g.Y {
			for bx := range g.X {
				for tz := range b.Z {
					for ty := range b.Y {
						for tx := range b.X {
							k := ((bz*g.Y+by)*g.X+bx)*nt + (tz*b.Y+ty)*b.X + tx
							want := int64((((bx*64+by)*64+bz)*64+tx)*4096 + ty*64 + tz)
							if got[k] != want {
								t.Fatalf("block (%d,%d,%d) thread (%d,%d,%d): %d, want %d", bx, by, bz, tx, ty, tz, got[k], want)
							}
						}
					}
				}
			}
		}
	}
}

// TestSelfDynamicShared: dynamic shared memory reverses each block's chunk.
func TestSelfDynamicShared(t *testing.T) {
	d := testDevice(t)
	const blocks, bs = 3, 50
	x := make([]float32, blocks*bs)
	for i := range x {
		x[i] = float32(math.Sqrt(float64(i)))
	}
	out := mustAlloc[float32](t, d, len(x))
	mustLaunch(t, d, "selftest_reverse", Dim{X: blocks}, Dim{X: bs}, 4*bs, P(mustPut(t, d, x)), P(out))
	got := mustGet[float32](t, d, out, len(x))
	for b := range blocks {
		for i := range bs {
			if got[b*bs+i] != x[b*bs+bs-1-i] {
				t.Fatalf("block %d position %d: %g, want %g", b, i, got[b*bs+i], x[b*bs+bs-1-i])
			}
		}
	}
}
