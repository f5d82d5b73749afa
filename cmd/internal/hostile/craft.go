// Package hostile is the hostile-input corpus of eandarn (issue 12): its
// test builds the three binaries and runs each of them, as a user would, on
// bad inputs and operator mistakes that the test generates itself (no large
// binary files in the repository), asserting for every case the exit
// status, the one-line message on stderr, that stdout is empty, and that
// nothing was written and no existing file was touched (the whole working
// folder is compared before and after, byte for byte).
//
// This file holds the crafting functions the corpus needs that the
// eandarn I/O packages rightly do not offer: HDF5 datasets declared with
// any shape and no data, soft, external and hard links, datasets whose raw
// data lives in another file, array attributes, and the unusual but valid
// layouts other tools write (chunked and compressed datasets, space-padded
// strings).
package hostile

// #cgo pkg-config: hdf5
// #include <stdlib.h>
// #include <string.h>
// #include "hdf5.h"
//
// static hid_t craft_open(const char *file) {
//   H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
//   return H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
// }
// static int craft_unlink(const char *file, const char *path) {
//   hid_t f = craft_open(file);
//   if (f < 0) return -1;
//   herr_t rc = H5Ldelete(f, path, H5P_DEFAULT);
//   return (H5Fclose(f) < 0 || rc < 0) ? -1 : 0;
// }
// static int craft_declare(const char *file, const char *path, int rank, const hsize_t *dims, const hsize_t *chunk, int deflate, const char *external) {
//   hid_t f = craft_open(file);
//   if (f < 0) return -1;
//   hid_t s = H5Screate_simple(rank, dims, NULL);
//   hid_t p = H5Pcreate(H5P_DATASET_CREATE);
//   hid_t l = H5Pcreate(H5P_LINK_CREATE);
//   H5Pset_create_intermediate_group(l, 1);
//   int rc = 0;
//   if (external != NULL) {
//     rc |= H5Pset_external(p, external, 0, H5F_UNLIMITED);
//   } else if (chunk != NULL) {
//     rc |= H5Pset_chunk(p, rank, chunk);
//     if (deflate) rc |= H5Pset_deflate(p, 6);
//   }
//   hid_t d = H5Dcreate2(f, path, H5T_IEEE_F64LE, s, l, p, H5P_DEFAULT);
//   if (d < 0) rc = -1; else H5Dclose(d);
//   H5Pclose(l); H5Pclose(p); H5Sclose(s);
//   return (H5Fclose(f) < 0 || rc < 0) ? -1 : 0;
// }
// static int craft_link(const char *file, int kind, const char *target, const char *extfile, const char *link) {
//   hid_t f = craft_open(file);
//   if (f < 0) return -1;
//   herr_t rc;
//   switch (kind) {
//   case 0: rc = H5Lcreate_hard(f, target, f, link, H5P_DEFAULT, H5P_DEFAULT); break;
//   case 1: rc = H5Lcreate_soft(target, f, link, H5P_DEFAULT, H5P_DEFAULT); break;
//   default: rc = H5Lcreate_external(extfile, target, f, link, H5P_DEFAULT, H5P_DEFAULT);
//   }
//   return (H5Fclose(f) < 0 || rc < 0) ? -1 : 0;
// }
// static int craft_string_array_attr(const char *file, const char *name, const char *a, const char *b) {
//   hid_t f = craft_open(file);
//   if (f < 0) return -1;
//   if (H5Aexists(f, name) > 0) H5Adelete(f, name);
//   hid_t t = H5Tcopy(H5T_C_S1);
//   H5Tset_size(t, H5T_VARIABLE);
//   hsize_t n = 2;
//   hid_t s = H5Screate_simple(1, &n, NULL);
//   hid_t at = H5Acreate2(f, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
//   const char *v[2] = {a, b};
//   int rc = (at < 0 || H5Awrite(at, t, v) < 0) ? -1 : 0;
//   if (at >= 0) H5Aclose(at);
//   H5Sclose(s); H5Tclose(t);
//   return (H5Fclose(f) < 0 || rc < 0) ? -1 : 0;
// }
// static int craft_rechunk(const char *file, const char *path, hsize_t most, int deflate) {
//   hid_t f = craft_open(file);
//   if (f < 0) return -1;
//   int rc = 0;
//   hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
//   hid_t t = H5Dget_type(d), s = H5Dget_space(d);
//   int integer = H5Tget_class(t) == H5T_INTEGER;
//   hid_t mt = integer ? H5T_NATIVE_LLONG : H5T_NATIVE_DOUBLE;
//   hssize_t n = H5Sget_simple_extent_npoints(s);
//   int rank = H5Sget_simple_extent_ndims(s);
//   hsize_t dims[H5S_MAX_RANK], chunk[H5S_MAX_RANK];
//   H5Sget_simple_extent_dims(s, dims, NULL);
//   for (int i = 0; i < rank; i++) chunk[i] = dims[i] < most ? dims[i] : most;
//   void *buf = malloc((size_t)n * 8);
//   if (d < 0 || buf == NULL || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) rc = -1;
//   if (d >= 0) H5Dclose(d);
//   if (rc == 0 && H5Ldelete(f, path, H5P_DEFAULT) < 0) rc = -1;
//   hid_t p = H5Pcreate(H5P_DATASET_CREATE);
//   if (rank > 0) {
//     H5Pset_chunk(p, rank, chunk);
//     if (deflate) { H5Pset_shuffle(p); H5Pset_deflate(p, 6); }
//   }
//   if (rc == 0) {
//     hid_t nd = H5Dcreate2(f, path, t, s, H5P_DEFAULT, p, H5P_DEFAULT);
//     if (nd < 0 || H5Dwrite(nd, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) rc = -1;
//     if (nd >= 0) H5Dclose(nd);
//   }
//   free(buf);
//   H5Pclose(p); H5Tclose(t); H5Sclose(s);
//   return (H5Fclose(f) < 0 || rc < 0) ? -1 : 0;
// }
// static int craft_spacepad_attr(const char *file, const char *name, const char *value, size_t size) {
//   hid_t f = craft_open(file);
//   if (f < 0) return -1;
//   if (H5Aexists(f, name) > 0) H5Adelete(f, name);
//   hid_t t = H5Tcopy(H5T_FORTRAN_S1);
//   H5Tset_size(t, size);
//   hid_t s = H5Screate(H5S_SCALAR);
//   hid_t a = H5Acreate2(f, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
//   char *buf = malloc(size);
//   size_t k = strlen(value);
//   for (size_t i = 0; i < size; i++) buf[i] = i < k ? value[i] : ' ';
//   int rc = (a < 0 || H5Awrite(a, t, buf) < 0) ? -1 : 0;
//   free(buf);
//   if (a >= 0) H5Aclose(a);
//   H5Sclose(s); H5Tclose(t);
//   return (H5Fclose(f) < 0 || rc < 0) ? -1 : 0;
// }
import "C"

import (
	"fmt"
	"unsafe"
)

func cstr(s string) (*C.char, func()) {
	c := C.CString(s)
	return c, func() { C.free(unsafe.Pointer(c)) }
}

// Unlink removes the link path (a dataset or group) from the HDF5 file.
func Unlink(file, path string) error {
	cf, f1 := cstr(file)
	defer f1()
	cp, f2 := cstr(path)
	defer f2()
	if C.craft_unlink(cf, cp) < 0 {
		return fmt.Errorf("unlink %s:%s failed", file, path)
	}
	return nil
}

// Declare creates a float64 dataset of shape dims at path (parent groups
// made as needed) and writes no data: chunked with chunk (deflate-compressed
// when deflate) when chunk is given, contiguous otherwise, or with its raw
// data in the file external when that is not "" (HDF5 external storage).
// A chunked dataset may declare any shape, 2^58 columns included.
func Declare(file, path string, dims, chunk []uint64, deflate bool, external string) error {
	cf, f1 := cstr(file)
	defer f1()
	cp, f2 := cstr(path)
	defer f2()
	cd := make([]C.hsize_t, len(dims))
	for i, d := range dims {
		cd[i] = C.hsize_t(d)
	}
	var cc *C.hsize_t
	if chunk != nil {
		ch := make([]C.hsize_t, len(chunk))
		for i, d := range chunk {
			ch[i] = C.hsize_t(d)
		}
		cc = &ch[0]
	}
	var ce *C.char
	if external != "" {
		var f3 func()
		ce, f3 = cstr(external)
		defer f3()
	}
	d := C.int(0)
	if deflate {
		d = 1
	}
	if C.craft_declare(cf, cp, C.int(len(dims)), &cd[0], cc, d, ce) < 0 {
		return fmt.Errorf("declare %s:%s %v failed", file, path, dims)
	}
	return nil
}

// Link kinds of MakeLink.
const (
	HardLink = iota
	SoftLink
	ExternalLink
)

// MakeLink creates link in file pointing at target: a hard or soft link to
// the object target of the same file, or an external link to the object
// target of the file extfile.
func MakeLink(file string, kind int, target, extfile, link string) error {
	cf, f1 := cstr(file)
	defer f1()
	ct, f2 := cstr(target)
	defer f2()
	ce, f3 := cstr(extfile)
	defer f3()
	cl, f4 := cstr(link)
	defer f4()
	if C.craft_link(cf, C.int(kind), ct, ce, cl) < 0 {
		return fmt.Errorf("link %s:%s -> %s failed", file, link, target)
	}
	return nil
}

// StringArrayAttr sets the root attribute name of file to the array [a, b]
// of variable-length strings.
func StringArrayAttr(file, name, a, b string) error {
	cf, f1 := cstr(file)
	defer f1()
	cn, f2 := cstr(name)
	defer f2()
	ca, f3 := cstr(a)
	defer f3()
	cb, f4 := cstr(b)
	defer f4()
	if C.craft_string_array_attr(cf, cn, ca, cb) < 0 {
		return fmt.Errorf("attribute %s of %s failed", name, file)
	}
	return nil
}

// Rechunk rewrites the dataset at path of the HDF5 file with the same type
// and values, stored in chunks of at most most elements per dimension
// (edge chunks where that does not divide the shape), shuffled and
// deflated when deflate is set: the layout h5py's compression="gzip"
// writes.
func Rechunk(file, path string, most uint64, deflate bool) error {
	cf, f1 := cstr(file)
	defer f1()
	cp, f2 := cstr(path)
	defer f2()
	d := C.int(0)
	if deflate {
		d = 1
	}
	if C.craft_rechunk(cf, cp, C.hsize_t(most), d) < 0 {
		return fmt.Errorf("rechunk %s:%s failed", file, path)
	}
	return nil
}

// SpacePadAttr sets the root attribute name of file to value as a
// fixed-length string of size bytes padded with spaces, as Fortran writes
// strings.
func SpacePadAttr(file, name, value string, size int) error {
	cf, f1 := cstr(file)
	defer f1()
	cn, f2 := cstr(name)
	defer f2()
	cv, f3 := cstr(value)
	defer f3()
	if C.craft_spacepad_attr(cf, cn, cv, C.size_t(size)) < 0 {
		return fmt.Errorf("attribute %s of %s failed", name, file)
	}
	return nil
}
