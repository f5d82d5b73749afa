package hostile

import (
	"os"
	"path/filepath"

	"github.com/eandarn/eandarn/io/matfile/matfiletest"
)

// This file holds the classes of MATLAB .mat inputs (io/matfile): the
// files SciPy and h5py wrote for testdata/matfile, cut or named wrongly,
// and the files no writer makes (a zip bomb, a compressed size that lies),
// crafted by matfiletest. Each is refused naming the flag, the file and
// the variable.

// matFixtures is testdata/matfile, from this package's folder.
const matFixtures = "../../../testdata/matfile"

// matImport copies the end-to-end recording of the fixtures (mesh_v7.mat
// as mesh.mat, mesh_v73.mat as mesh73.mat, types_v7.mat as types.mat)
// into the case's folder and returns an import of it with extra flags,
// which replace a flag of the same name.
func matImport(w *work, extra ...string) []string {
	for from, to := range map[string]string{"mesh_v7.mat": "mesh.mat", "mesh_v73.mat": "mesh73.mat", "types_v7.mat": "types.mat"} {
		b, err := os.ReadFile(filepath.Join(matFixtures, from))
		must(w.t, err)
		must(w.t, os.WriteFile(w.path(to), b, 0o644))
	}
	flags := map[string]string{"-heart": "mesh.mat", "-forward": "mesh.mat:R", "-bspm": "mesh.mat:bspm"}
	var a []string
	for i := 0; i < len(extra); i += 2 {
		if _, ok := flags[extra[i]]; ok {
			flags[extra[i]] = extra[i+1]
			continue
		}
		a = append(a, extra[i], extra[i+1])
	}
	for _, f := range []string{"-heart", "-forward", "-bspm"} {
		a = append(a, f, flags[f])
	}
	return append(a, "-units", "mV", "-rate", "1000", "-out", "out.h5", "-log-level", "warn")
}

// writeMat writes a Level 5 file of the given elements.
func writeMat(w *work, name string, elems ...[]byte) {
	b := matfiletest.Header()
	for _, e := range elems {
		b = append(b, e...)
	}
	must(w.t, os.WriteFile(w.path(name), b, 0o644))
}

// matCases are the refusals of .mat inputs; TestCorpus runs them with the
// others.
func matCases() []hostileCase {
	imp := func(extra ...string) func(w *work) []string {
		return func(w *work) []string { return matImport(w, extra...) }
	}
	return []hostileCase{
		{name: "mat_truncated", prog: "synth", want: "-bspm cut.mat:bspm: read cut.mat: element at byte 2712 declares 547 bytes, the file has 268 after its tag (truncated): corrupt or truncated MAT file",
			setup: func(w *work) []string {
				a := matImport(w, "-bspm", "cut.mat:bspm")
				b, err := os.ReadFile(w.path("mesh.mat"))
				must(w.t, err)
				must(w.t, os.WriteFile(w.path("cut.mat"), b[:len(b)-len(b)/3], 0o644))
				return a
			}},
		{name: "mat_zip_bomb", prog: "synth", want: "-bspm bomb.mat: read bomb.mat: bspm (shape (2000, 2000)): 30.5 MiB, over the memory budget of 8 MiB",
			check: tinyRSS,
			setup: func(w *work) []string {
				writeMat(w, "bomb.mat", matfiletest.Zeros("bspm", 2000, 2000))
				return matImport(w, "-bspm", "bomb.mat", "-max-memory", "8MiB")
			}},
		{name: "mat_compressed_size_lies", prog: "synth", want: "-bspm lie.mat: read lie.mat: compressed element at byte 128 declares 2147483647 bytes inflated from",
			check: tinyRSS,
			setup: func(w *work) []string {
				e := matfiletest.Double("bspm", []int32{6, 10}, make([]float64, 60))
				e[4], e[5], e[6], e[7] = 0xff, 0xff, 0xff, 0x7f
				writeMat(w, "lie.mat", matfiletest.Compressed(e))
				return matImport(w, "-bspm", "lie.mat")
			}},
		{name: "mat_struct_as_array", prog: "synth", want: "-forward mesh.mat:mesh: read mesh.mat: mesh is a struct with fields node, face: name a field, FILE.mat:mesh.FIELD",
			setup: imp("-forward", "mesh.mat:mesh")},
		{name: "mat_complex", prog: "synth", want: "-bspm types.mat:cplx: read types.mat: cplx is a 1x2 complex double: save real(cplx) or abs(cplx): not a numeric array",
			setup: imp("-bspm", "types.mat:cplx")},
		{name: "mat_sparse", prog: "synth", want: "-forward types.mat:sp: read types.mat: sp is a 3x3 sparse: save full(sp): not a numeric array",
			setup: imp("-forward", "types.mat:sp")},
		{name: "mat_missing_variable", prog: "synth", want: `-truth mesh.mat: read mesh.mat: no variable "u"; the file holds: nodes (42x3 double), triangles (80x3 int32), R (6x42 double), bspm (6x10 double), mesh (1x1 struct), mesh0 (1x1 struct)`,
			setup: imp("-truth", "mesh.mat")},
		{name: "mat_faces_1_based", prog: "synth", want: "-heart mesh.mat:mesh: mesh.face: row 58: want node indices in [0, 42) (0-based, mesh.node), got 42; the indices run 1..42: 1-based (as MATLAB writes them)? subtract 1 from every index",
			setup: imp("-heart", "mesh.mat:mesh")},
		{name: "mat_mesh_not_a_struct", prog: "synth", want: "-heart mesh.mat:R: read mesh.mat: R is a 6x42 double, not a struct",
			setup: imp("-heart", "mesh.mat:R")},
		{name: "mat_v73_complex", prog: "synth", want: "-forward mesh73.mat:cplx: read mesh73.mat: cplx is a 1x2 complex double: save real(cplx) or abs(cplx): not a numeric array",
			setup: imp("-forward", "mesh73.mat:cplx")},
		{name: "mat_v73_missing_variable", prog: "synth", want: `-bspm mesh73.mat:Y: read mesh73.mat: no variable "Y"; the file holds: R, bspm, cplx, mesh0, nodes, sp, triangles, txt`,
			setup: imp("-bspm", "mesh73.mat:Y")},
	}
}
