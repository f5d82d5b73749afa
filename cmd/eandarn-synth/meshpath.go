package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/eandarn/eandarn/io/csvmesh"
	"github.com/eandarn/eandarn/io/h5"
	"github.com/eandarn/eandarn/io/inputs"
	"github.com/eandarn/eandarn/io/matfile"
	"github.com/eandarn/eandarn/io/npy"
	"github.com/eandarn/eandarn/solver/mesh"
)

// Mesh paths accepted by -heart and -torso (coordinates in mm, triangle
// indices 0-based):
//
//	FILE.h5          datasets nodes (N x 3) and triangles (F x 3) at the root
//	FILE.h5:GROUP    the same inside GROUP, e.g. run.h5:geometry/heart
//	FILE.mat         variables nodes and triangles
//	FILE.mat:STRUCT  the fields nodes and triangles of a 1x1 struct, or
//	                 node and face (SCIRun's and the FwdInvToolkit's mesh)
//	DIR              DIR/nodes.npy + DIR/triangles.npy (the run-file .npy
//	                 layout, e.g. run/geometry/heart), or DIR/nodes.csv +
//	                 DIR/faces.csv
//	P_nodes.npy      with P_triangles.npy beside it (also Pnodes.npy)
//	P_nodes.csv      with P_faces.csv beside it, as in ../shared/data
//	P                a prefix: P_nodes.npy + P_triangles.npy, or
//	                 P_nodes.csv + P_faces.csv (e.g. .../heart_closed)
//
// In a .mat, an array of 3 rows and another number of columns is read as
// its transpose, since SCIRun stores a mesh so (node 3 x N, face 3 x F); a
// .mat's triangles must be 0-based too (MATLAB's 1-based ones are refused
// with the hint to subtract 1, as from any file).

// arrays reads float and integer arrays by name from one container (an
// HDF5 file, a MAT file or a folder of .npy files).
type arrays interface {
	ReadFloats(name string) ([]float64, []int, error)
	ReadInts(name string) ([]int, []int, error)
}

// npyDir reads NAME as DIR/NAME.npy.
type npyDir string

func (d npyDir) ReadFloats(name string) ([]float64, []int, error) {
	return npy.ReadFloats(filepath.Join(string(d), name+".npy"))
}

func (d npyDir) ReadInts(name string) ([]int, []int, error) {
	return npy.ReadInts(filepath.Join(string(d), name+".npy"))
}

// container is an open HDF5 or MAT file: arrays by name, and where in it
// a mesh lies.
type container interface {
	arrays
	// meshAt returns the arrays of the mesh at inner (the part after
	// FILE.h5: or FILE.mat:, "" for none) and the names of its node and
	// triangle arrays.
	meshAt(inner string) (a arrays, nodes, triangles string, err error)
	Close() error
}

// openContainer opens FILE.h5 or FILE.mat.
func openContainer(file string) (container, error) {
	if strings.HasSuffix(file, ".mat") {
		f, err := matfile.Open(file)
		if err != nil {
			return nil, err
		}
		return matFile{f}, nil
	}
	f, err := h5.Open(file)
	if err != nil {
		return nil, err
	}
	return h5Group{f, ""}, nil
}

// h5Group reads NAME as GROUP/NAME of an open HDF5 file.
type h5Group struct {
	f     *h5.File
	group string
}

func (g h5Group) ReadFloats(name string) ([]float64, []int, error) {
	return g.f.ReadFloats(g.group + "/" + name)
}

func (g h5Group) ReadInts(name string) ([]int, []int, error) {
	return g.f.ReadInts(g.group + "/" + name)
}

func (g h5Group) meshAt(group string) (arrays, string, string, error) {
	return h5Group{g.f, group}, "nodes", "triangles", nil
}

func (g h5Group) Close() error { return g.f.Close() }

// matFile reads NAME as the variable (or STRUCT.FIELD) of a MAT file.
type matFile struct{ *matfile.File }

func (m matFile) meshAt(inner string) (arrays, string, string, error) {
	if inner == "" {
		return meshLayout{m}, "nodes", "triangles", nil
	}
	fields, err := m.Fields(inner)
	if err != nil {
		return nil, "", "", err
	}
	for _, names := range [][2]string{{"nodes", "triangles"}, {"node", "face"}} {
		if slices.Contains(fields, names[0]) && slices.Contains(fields, names[1]) {
			return meshLayout{m}, inner + "." + names[0], inner + "." + names[1], nil
		}
	}
	return nil, "", "", fmt.Errorf("%s: %s has fields %s: want nodes and triangles (or SCIRun's node and face)", m.Name(), inner, strings.Join(fields, ", "))
}

// meshLayout reads a MATLAB mesh array of 3 rows and K ≠ 3 columns (node
// 3 x N or face 3 x F, SCIRun's layout) as its K x 3 transpose.
type meshLayout struct{ a arrays }

func (l meshLayout) ReadFloats(name string) ([]float64, []int, error) {
	v, shape, err := l.a.ReadFloats(name)
	return transposeRows3(v, shape, err)
}

func (l meshLayout) ReadInts(name string) ([]int, []int, error) {
	v, shape, err := l.a.ReadInts(name)
	return transposeRows3(v, shape, err)
}

// transposeRows3 transposes a row-major 3 x K array (K ≠ 3) to K x 3 and
// passes anything else through.
func transposeRows3[T any](v []T, shape []int, err error) ([]T, []int, error) {
	if err != nil || len(shape) != 2 || shape[0] != 3 || shape[1] == 3 {
		return v, shape, err
	}
	k := shape[1]
	out := make([]T, len(v))
	for i := range k {
		for j := range 3 {
			out[3*i+j] = v[j*k+i]
		}
	}
	return out, []int{k, 3}, nil
}

// readMesh reads a surface mesh from one of the accepted paths and returns
// the files it read.
func readMesh(path string) (*mesh.Mesh, []string, error) {
	if file, inner, ok := splitContainer(path); ok {
		c, err := openContainer(file)
		if err != nil {
			return nil, nil, err
		}
		defer c.Close()
		a, nodes, tris, err := c.meshAt(inner)
		if err != nil {
			return nil, nil, err
		}
		m, err := meshFrom(a, nodes, tris)
		return m, []string{file}, err
	}
	var pairs [][2]string // candidate (nodes, triangles) files, .npy or .csv
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		pairs = [][2]string{
			{filepath.Join(path, "nodes.npy"), filepath.Join(path, "triangles.npy")},
			{filepath.Join(path, "nodes.csv"), filepath.Join(path, "faces.csv")},
		}
	} else if p, ok := strings.CutSuffix(path, "nodes.npy"); ok {
		pairs = [][2]string{{path, p + "triangles.npy"}}
	} else if p, ok := strings.CutSuffix(path, "nodes.csv"); ok {
		pairs = [][2]string{{path, p + "faces.csv"}}
	} else {
		pairs = [][2]string{{path + "_nodes.npy", path + "_triangles.npy"}, {path + "_nodes.csv", path + "_faces.csv"}}
	}
	for _, pr := range pairs {
		if _, err := os.Stat(pr[0]); err != nil {
			continue
		}
		if strings.HasSuffix(pr[0], ".csv") {
			m, err := csvmesh.Load(pr[0], pr[1])
			return m, pr[:], err
		}
		dir := npyDir(filepath.Dir(pr[0]))
		m, err := meshFrom(dir, strings.TrimSuffix(filepath.Base(pr[0]), ".npy"), strings.TrimSuffix(filepath.Base(pr[1]), ".npy"))
		return m, pr[:], err
	}
	return nil, nil, fmt.Errorf("no mesh there: want FILE.h5[:GROUP], FILE.mat[:STRUCT], a folder with nodes.npy/triangles.npy or nodes.csv/faces.csv, or a prefix P of P_nodes.npy/P_triangles.npy or P_nodes.csv/P_faces.csv")
}

// splitContainer splits "FILE.h5[:NAME]" or "FILE.mat[:NAME]" into the
// file and the name inside it ("" for none); ok is false for a path that
// names neither.
func splitContainer(path string) (file, inner string, ok bool) {
	for _, ext := range []string{".h5", ".mat"} {
		if strings.HasSuffix(path, ext) {
			return path, "", true
		}
		if i := strings.LastIndex(path, ext+":"); i >= 0 {
			return path[:i+len(ext)], strings.Trim(path[i+len(ext)+1:], "/"), true
		}
	}
	return "", "", false
}

// meshFrom reads an N x 3 node array and an F x 3 triangle array.
func meshFrom(a arrays, nodesName, trisName string) (*mesh.Mesh, error) {
	xs, shape, err := a.ReadFloats(nodesName)
	if err != nil {
		return nil, err
	}
	ts, tshape, err := a.ReadInts(trisName)
	if err != nil {
		return nil, err
	}
	return csvmesh.FromArrays(xs, shape, ts, tshape, nodesName, trisName)
}

// readLeads reads 0-based torso node indices of the leads from a .npy file,
// FILE.h5[:DATASET] or FILE.mat[:VAR] (default name "leads"), or a
// one-column CSV file,
// checks them against the torso's n nodes, and returns the file it read.
func readLeads(path string, n int) ([]int, []string, error) {
	// Read as numbers first: a table of electrode positions, given where
	// their node indices belong, is named so rather than refused for its
	// first fraction.
	xs, shape, err := readFloats(path, "leads")
	if err != nil {
		return nil, nil, err
	}
	if !vectorShape(shape) {
		positions := ""
		if len(shape) == 2 && shape[1] == 3 {
			positions = ": electrode positions (x, y, z)? -leads wants the 0-based torso node of each lead"
		}
		return nil, nil, fmt.Errorf("want one integer per line (a vector), got shape %v%s", shape, positions)
	}
	if len(xs) == 0 {
		return nil, nil, errors.New("no lead indices")
	}
	leads := make([]int, len(xs))
	for i, x := range xs {
		if leads[i], err = inputs.Int(x); err != nil {
			return nil, nil, fmt.Errorf("lead %d: %w (a torso node index)", i, err)
		}
	}
	if e := inputs.BadIndex(leads, n); e != nil {
		return nil, nil, fmt.Errorf("lead %d is torso node %d, want 0..%d (0-based)%s", e.At, e.Got, n-1, e.Hint())
	}
	seen := make(map[int]int, len(leads))
	for i, l := range leads {
		if j, ok := seen[l]; ok {
			return nil, nil, fmt.Errorf("lead %d repeats torso node %d (lead %d): want distinct nodes", i, l, j)
		}
		seen[l] = i
	}
	return leads, []string{arrayFile(path)}, nil
}
