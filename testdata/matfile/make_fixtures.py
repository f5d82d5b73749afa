#!/usr/bin/python3
"""Writes the .mat fixtures of io/matfile and cmd/eandarn-synth with an
independent writer: SciPy's scipy.io.savemat (Level 5) and h5py (-v7.3).

The generated files are committed; only regenerating them needs SciPy
(Debian: apt-get install python3-scipy; make deps does not install it):

    cd testdata/matfile && /usr/bin/python3 make_fixtures.py

Files (a few KB in all):
  types_v6.mat   format='5', uncompressed (MATLAB's -v6), little-endian:
                 one 2-D array of each numeric class (double, single,
                 int8..uint64, logical), a column, a row, a scalar, a
                 2x3x1 array (trailing singleton), a 2x2x2 array, and the
                 variables that are not numeric arrays: complex, sparse,
                 cell, char, a 1x1 struct (SCIRun's mesh: node 3xN, face
                 3xF, 1-based) and a 1x2 struct array.
  types_v7.mat   the same, do_compression=True (MATLAB's default -v7).
  types_be.mat   types_v6.mat byte-swapped element by element into a
                 big-endian file ("MI" indicator): SciPy writes only the
                 native byte order, so the swap follows the format's
                 specification (every element's tag and data by its type).
  mesh_v7.mat    the end-to-end recording (compressed): a 42-node
                 icosphere heart of radius 20 mm (nodes 42x3, triangles
                 80x3 0-based), R (6 leads x 42 nodes), bspm (6 x 10,
                 mV), and the mesh as SCIRun structs: mesh (node 3x42,
                 face 3x80, 1-based) and mesh0 (the same, 0-based).
  mesh_v73.mat   the same in MATLAB's -v7.3 layout, written with h5py: a
                 512-byte user block holding MATLAB's text header, every
                 array stored transposed (MATLAB's column-major m x n is
                 an HDF5 dataset of shape (n, m)) with a MATLAB_class
                 attribute, the structs as groups; plus a complex
                 (compound) dataset, a char and a sparse group.
  mesh_*.npy     the same arrays as .npy (nodes, triangles, R, bspm): the
                 plain files the .mat import must equal bit for bit.

The values of types_*.mat are those the Go tests recompute: a rows x cols
array of class c holds value(i, j) = (i*cols + j) * scale + offset, with
scale and offset of TYPES below.
"""

import struct

import h5py
import numpy as np
import scipy.io
import scipy.sparse

# name: (numpy dtype, shape, scale, offset)
TYPES = {
    "d": ("float64", (3, 4), 0.25, -1.0),
    "s": ("float32", (2, 3), 0.5, -1.0),
    "i8": ("int8", (2, 3), 1, -3),
    "u8": ("uint8", (2, 3), 1, 200),
    "i16": ("int16", (2, 3), 1, -300),
    "u16": ("uint16", (2, 3), 1, 60000),
    "i32": ("int32", (2, 3), 1, -70000),
    "u32": ("uint32", (2, 3), 1, 4000000000),
    "i64": ("int64", (2, 3), 1, -(2**40)),
    "u64": ("uint64", (2, 3), 1, 2**40),
    "col": ("float64", (4, 1), 1, 1),
    "row": ("float64", (1, 5), 1, 1),
    "scalar": ("float64", (1, 1), 1, 7),
    "nd1": ("float64", (2, 3, 1), 1, 0),
    "cube": ("float64", (2, 2, 2), 1, 0),
}


def values(dtype, shape, scale, offset):
    n = int(np.prod(shape))
    if dtype.startswith("float"):
        return (np.arange(n, dtype=np.float64) * scale + offset).astype(dtype).reshape(shape)
    return (np.arange(n, dtype=np.int64) * scale + offset).astype(dtype).reshape(shape)


def types_vars():
    v = {k: values(*spec) for k, spec in TYPES.items()}
    v["logic"] = np.array([[True, False, True], [False, False, True]])
    v["cplx"] = np.array([[1 + 2j, 3 - 1j]])
    v["sp"] = scipy.sparse.csc_matrix(np.eye(3))
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0], cell[0, 1] = np.zeros((2, 2)), np.ones((1, 3))
    v["cel"] = cell
    v["txt"] = "heart"
    node, face = icosphere_arrays(0, 20)
    v["mesh"] = {"node": node.T, "face": (face + 1).T.astype(np.float64)}
    sa = np.zeros((1, 2), dtype=[("a", object)])
    sa[0, 0]["a"], sa[0, 1]["a"] = 1.0, 2.0
    v["sa"] = sa
    return v


def icosphere_arrays(level, radius):
    """A sphere made by subdividing an icosahedron (as eandarn's
    geometry.Icosphere, counter-clockwise seen from outside)."""
    p = (1 + 5**0.5) / 2
    nodes = [(-1, p, 0), (1, p, 0), (-1, -p, 0), (1, -p, 0), (0, -1, p), (0, 1, p),
             (0, -1, -p), (0, 1, -p), (p, 0, -1), (p, 0, 1), (-p, 0, -1), (-p, 0, 1)]
    tris = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4),
            (11, 10, 2), (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8),
            (3, 8, 9), (4, 9, 5), (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)]
    nodes = [np.array(x, dtype=np.float64) / np.linalg.norm(x) for x in nodes]
    for _ in range(level):
        mid, nxt = {}, []

        def midpoint(a, b):
            key = (min(a, b), max(a, b))
            if key not in mid:
                m = (nodes[a] + nodes[b]) / 2
                nodes.append(m / np.linalg.norm(m))
                mid[key] = len(nodes) - 1
            return mid[key]

        for t in tris:
            a, b, c = midpoint(t[0], t[1]), midpoint(t[1], t[2]), midpoint(t[2], t[0])
            nxt += [(t[0], a, c), (t[1], b, a), (t[2], c, b), (a, b, c)]
        tris = nxt
    return np.array(nodes) * radius, np.array(tris, dtype=np.int32)


def byteswap_mat(src, dst):
    """Rewrites an uncompressed little-endian Level 5 file big-endian: the
    header's version and endian indicator, and every data element's tag
    and data swapped by its data type, miMATRIX elements recursively."""
    size = {1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2, 18: 4}
    b = open(src, "rb").read()
    assert b[126:128] == b"IM"

    def elements(data):
        out, i = b"", 0
        while i < len(data):
            word, = struct.unpack("<I", data[i:i + 4])
            if word >> 16:  # small data element
                typ, n = word & 0xFFFF, word >> 16
                out += struct.pack(">HH", n, typ) + swap(typ, data[i + 4:i + 4 + n]).ljust(4, b"\0")
                i += 8
                continue
            n, = struct.unpack("<I", data[i + 4:i + 8])
            body = data[i + 8:i + 8 + n]
            out += struct.pack(">II", word, n)
            out += elements(body) if word == 14 else swap(word, body)
            padded = (n + 7) // 8 * 8
            out += data[i + 8 + n:i + 8 + padded]
            i += 8 + padded
        return out

    def swap(typ, data):
        k = size[typ]
        return b"".join(data[j:j + k][::-1] for j in range(0, len(data), k))

    head = b[:124] + struct.pack(">H", 0x0100) + b"MI"
    open(dst, "wb").write(head + elements(b[128:]))


def write_v73(path, arrays, structs):
    """MATLAB's -v7.3 layout written with h5py (see the module docstring)."""
    def dataset(g, name, a, cls):
        d = g.create_dataset(name, data=np.ascontiguousarray(np.asarray(a).T))
        d.attrs["MATLAB_class"] = np.bytes_(cls)

    with h5py.File(path, "w", userblock_size=512, libver="latest") as f:
        for name, a in arrays.items():
            dataset(f, name, a, {"float64": "double", "int32": "int32"}[str(a.dtype)])
        for name, fields in structs.items():
            g = f.create_group(name)
            g.attrs["MATLAB_class"] = np.bytes_("struct")
            for k, a in fields.items():
                dataset(g, k, a, "double")
        c = f.create_dataset("cplx", data=np.array([[1 + 2j], [3 - 1j]]))
        c.attrs["MATLAB_class"] = np.bytes_("double")
        dataset(f, "txt", np.frombuffer(b"heart", dtype=np.uint8).astype(np.uint16).reshape(1, 5), "char")
        sp = f.create_group("sp")
        sp.attrs["MATLAB_class"] = np.bytes_("double")
        sp.attrs["MATLAB_sparse"] = np.uint64(3)
        for k, a in {"data": np.ones(3), "ir": np.arange(3, dtype=np.uint64), "jc": np.arange(4, dtype=np.uint64)}.items():
            sp.create_dataset(k, data=a)
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Dec  3 00:00:00 2026 HDF5 schema 1.00 ."
    with open(path, "r+b") as f:
        f.write(header.ljust(116, b" ") + b"\0" * 8 + struct.pack("<H", 0x0200) + b"IM")


def main():
    v = types_vars()
    scipy.io.savemat("types_v6.mat", v, format="5", do_compression=False)
    scipy.io.savemat("types_v7.mat", v, format="5", do_compression=True)
    byteswap_mat("types_v6.mat", "types_be.mat")

    nodes, tris = icosphere_arrays(1, 20)
    leads, frames = 6, 10
    R = np.array([[np.cos(0.37 * i + 0.11 * j) / (1 + (i + j) % 5) for j in range(len(nodes))] for i in range(leads)])
    U = np.array([[np.tanh((k - 5 - x[2] / 8) / 2) for k in range(frames)] for x in nodes])
    Y = R @ U
    scipy.io.savemat("mesh_v7.mat", {
        "nodes": nodes, "triangles": tris, "R": R, "bspm": Y,
        "mesh": {"node": nodes.T, "face": (tris + 1).T.astype(np.float64)},
        "mesh0": {"node": nodes.T, "face": tris.T.astype(np.float64)},
    }, format="5", do_compression=True)
    write_v73("mesh_v73.mat", {"nodes": nodes, "triangles": tris, "R": R, "bspm": Y},
              {"mesh0": {"node": nodes.T, "face": tris.T.astype(np.float64)}})
    np.save("mesh_nodes.npy", nodes)
    np.save("mesh_triangles.npy", tris)
    np.save("mesh_R.npy", R)
    np.save("mesh_bspm.npy", Y)


if __name__ == "__main__":
    main()
