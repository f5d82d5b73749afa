package h5

// The gonum binding reads and writes datasets in the dataset's own file
// datatype, so an int32 or big-endian dataset would land in a Go []int64 or
// []float64 unconverted. This shim asks HDF5 to convert to the native memory
// type instead, and adds the attribute listing the binding lacks.

// #cgo pkg-config: hdf5
// #include <stdlib.h>
// #include <string.h>
// #include "hdf5.h"
//
// static herr_t eandarn_read_f64(hid_t d, double *buf) {
//   return H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
// }
// static herr_t eandarn_write_f64(hid_t d, const double *buf) {
//   return H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
// }
// static herr_t eandarn_read_i64(hid_t d, long long *buf) {
//   return H5Dread(d, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
// }
// static herr_t eandarn_write_i64(hid_t d, const long long *buf) {
//   return H5Dwrite(d, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
// }
// static ssize_t eandarn_attr_name(hid_t loc, const char *obj, hsize_t idx, char *buf, size_t n) {
//   return H5Aget_name_by_idx(loc, obj, H5_INDEX_NAME, H5_ITER_INC, idx, buf, n, H5P_DEFAULT);
// }
// static htri_t eandarn_attr_exists(hid_t loc, const char *obj, const char *name) {
//   return H5Aexists_by_name(loc, obj, name, H5P_DEFAULT);
// }
// static herr_t eandarn_attr_delete(hid_t loc, const char *obj, const char *name) {
//   return H5Adelete_by_name(loc, obj, name, H5P_DEFAULT);
// }
// static void eandarn_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
// static int eandarn_obj_type(hid_t loc, const char *path) {
//   hid_t o = H5Oopen(loc, path, H5P_DEFAULT);
//   if (o < 0) return -1;
//   int t = (int)H5Iget_type(o);
//   H5Oclose(o);
//   return t;
// }
// static long long eandarn_attr_fixed_str_size(hid_t a) {
//   hid_t t = H5Aget_type(a);
//   if (t < 0) return -1;
//   long long n = H5Tis_variable_str(t) ? 0 : (long long)H5Tget_size(t);
//   H5Tclose(t);
//   return n;
// }
// static herr_t eandarn_attr_read_fixed(hid_t a, char *buf, int *spacepad) {
//   hid_t t = H5Aget_type(a);
//   if (t < 0) return -1;
//   *spacepad = H5Tget_strpad(t) == H5T_STR_SPACEPAD;
//   herr_t rc = H5Aread(a, t, buf);
//   H5Tclose(t);
//   return rc;
// }
// static int eandarn_link_type(hid_t loc, const char *path) {
//   htri_t ok = H5Lexists(loc, path, H5P_DEFAULT);
//   if (ok < 0) return -2;
//   if (ok == 0) return -1;
//   H5L_info_t info;
//   if (H5Lget_info(loc, path, &info, H5P_DEFAULT) < 0) return -2;
//   return (int)info.type;
// }
// static int eandarn_space_status(hid_t d) {
//   H5D_space_status_t s;
//   if (H5Dget_space_status(d, &s) < 0) return -1;
//   return (int)s;
// }
// /* For a chunked dataset: the chunks stored (*have) and the chunks that
//    cover its extent (*want); returns 1, or 0 when the dataset is not
//    chunked, or -1 on error. (H5Dget_num_chunks of HDF5 1.10 refuses
//    H5S_ALL: it is given the dataset's own dataspace, all selected.) */
// static int eandarn_chunks(hid_t d, unsigned long long *have, unsigned long long *want) {
//   hid_t p = H5Dget_create_plist(d);
//   if (p < 0) return -1;
//   if (H5Pget_layout(p) != H5D_CHUNKED) { H5Pclose(p); return 0; }
//   hsize_t dims[H5S_MAX_RANK], chunk[H5S_MAX_RANK], n = 0;
//   hid_t s = H5Dget_space(d);
//   int rank = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
//   int rc = 1;
//   if (rank < 0 || H5Sget_simple_extent_dims(s, dims, NULL) < 0 ||
//       H5Pget_chunk(p, rank, chunk) != rank || H5Dget_num_chunks(d, s, &n) < 0) rc = -1;
//   if (s >= 0) H5Sclose(s);
//   H5Pclose(p);
//   if (rc < 0) return -1;
//   unsigned long long w = 1;
//   for (int i = 0; i < rank; i++) {
//     if (chunk[i] == 0) return -1;
//     w *= (dims[i] + chunk[i] - 1) / chunk[i];
//   }
//   *have = n;
//   *want = w;
//   return 1;
// }
// static int eandarn_storage(hid_t d) {
//   hid_t p = H5Dget_create_plist(d);
//   if (p < 0) return -1;
//   int r = 0;
//   if (H5Pget_external_count(p) > 0) r = 1;
//   else if (H5Pget_layout(p) == H5D_VIRTUAL) r = 2;
//   H5Pclose(p);
//   return r;
// }
// static herr_t eandarn_error_cb(unsigned n, const H5E_error2_t *e, void *buf) {
//   if (n == 0 && e->desc != NULL) { strncpy((char *)buf, e->desc, 1023); ((char *)buf)[1023] = 0; }
//   return 0;
// }
// /* The description of the innermost error of the calling thread's HDF5
//    error stack (where the cause is: "... errno = 28, error message = 'No
//    space left on device' ..."), or "" when the stack is empty. */
// static void eandarn_last_error(char *buf) {
//   buf[0] = 0;
//   H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, eandarn_error_cb, buf);
// }
// static long long eandarn_attr_npoints(hid_t a) {
//   hid_t s = H5Aget_space(a);
//   if (s < 0) return -1;
//   long long n = (long long)H5Sget_simple_extent_npoints(s);
//   H5Sclose(s);
//   return n;
// }
// static int eandarn_attr_class(hid_t a) {
//   hid_t t = H5Aget_type(a);
//   if (t < 0) return -1;
//   int c = (int)H5Tget_class(t);
//   H5Tclose(t);
//   return c;
// }
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"
)

// quiet turns off HDF5's printing of error stacks to stderr for the calling
// OS thread and pins the goroutine to it until the returned function runs.
// The binding silences errors once at init, but Debian's libhdf5 is built
// thread-safe, where that setting is per thread, and goroutines move between
// threads: without this, expected failures (a truncated file, a missing
// attribute) would spray HDF5-DIAG stacks on stderr. Errors are returned, not
// printed.
func quiet() func() {
	runtime.LockOSThread()
	C.eandarn_quiet()
	return runtime.UnlockOSThread
}

// Link types of eandarn_link_type.
const (
	linkMissing = -1
	linkHard    = int(C.H5L_TYPE_HARD)
)

// linkType returns the type of the link at path (absolute; its parents
// must be hard links, or HDF5 follows them), linkMissing when there is
// none, or an error.
func linkType(loc int64, path string) (int, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	t := int(C.eandarn_link_type(C.hid_t(loc), cpath))
	if t == -2 {
		return 0, errHDF5
	}
	return t, nil
}

// spaceAllocated reports whether the storage of every element of a dataset
// has been written: a dataset created but never, or only partly, written
// reads as fill values. A chunked dataset (compressed or not) must have
// every chunk that covers its extent stored; HDF5's own space status
// compares byte counts, which compression makes smaller and edge chunks
// larger than the data, so it would call a complete compressed dataset
// partly allocated. Other layouts must be allocated whole
// (H5D_SPACE_STATUS_ALLOCATED; a compact dataset always is).
func spaceAllocated(dset int64) (bool, error) {
	var have, want C.ulonglong
	switch C.eandarn_chunks(C.hid_t(dset), &have, &want) {
	case -1:
		return false, errHDF5
	case 1:
		return have == want, nil
	}
	s := C.eandarn_space_status(C.hid_t(dset))
	if s < 0 {
		return false, errHDF5
	}
	return s == C.H5D_SPACE_STATUS_ALLOCATED, nil
}

// foreignStorage describes where a dataset keeps its raw data when that is
// outside this file ("" when it is inside): HDF5 would open those files by
// name, which may be anything (a named pipe, /dev/zero).
func foreignStorage(dset int64) (string, error) {
	switch C.eandarn_storage(C.hid_t(dset)) {
	case 0:
		return "", nil
	case 1:
		return "raw data in external files", nil
	case 2:
		return "a virtual dataset mapping other files", nil
	}
	return "", errHDF5
}

// attrPoints returns the number of elements of an open attribute.
func attrPoints(attr int64) (int64, error) {
	n := int64(C.eandarn_attr_npoints(C.hid_t(attr)))
	if n < 0 {
		return 0, errHDF5
	}
	return n, nil
}

// objectIsGroup reports whether the object at path (absolute) is a group;
// ok is false when there is no object there.
func objectIsGroup(loc int64, path string) (group, ok bool) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	switch C.eandarn_obj_type(C.hid_t(loc), cpath) {
	case C.H5I_GROUP:
		return true, true
	case C.H5I_DATASET:
		return false, true
	}
	return false, false
}

var errHDF5 = errors.New("hdf5 library call failed")

func status(rc C.herr_t) error {
	if rc < 0 {
		return lastError()
	}
	return nil
}

// lastError is errHDF5 with the cause HDF5 recorded for the failed call:
// the system's message when there is one ("No space left on device",
// "Disk quota exceeded"), else the innermost description. It must be
// called right after the failed call, on the same OS thread (quiet): the
// next HDF5 call clears the error stack.
func lastError() error {
	var buf [1024]C.char
	C.eandarn_last_error(&buf[0])
	desc := C.GoString(&buf[0])
	if _, msg, ok := strings.Cut(desc, "error message = '"); ok {
		desc, _, _ = strings.Cut(msg, "'")
	}
	if desc == "" {
		return errHDF5
	}
	return fmt.Errorf("%w: %s", errHDF5, desc)
}

// readF64 reads a whole dataset converted to native float64 into buf, which
// must hold every element.
func readF64(dset int64, buf []float64) error {
	if len(buf) == 0 {
		return nil
	}
	return status(C.eandarn_read_f64(C.hid_t(dset), (*C.double)(unsafe.Pointer(&buf[0]))))
}

func writeF64(dset int64, buf []float64) error {
	if len(buf) == 0 {
		return nil
	}
	return status(C.eandarn_write_f64(C.hid_t(dset), (*C.double)(unsafe.Pointer(&buf[0]))))
}

// readI64 reads a whole integer dataset converted to native int64 into buf.
func readI64(dset int64, buf []int64) error {
	if len(buf) == 0 {
		return nil
	}
	return status(C.eandarn_read_i64(C.hid_t(dset), (*C.longlong)(unsafe.Pointer(&buf[0]))))
}

func writeI64(dset int64, buf []int64) error {
	if len(buf) == 0 {
		return nil
	}
	return status(C.eandarn_write_i64(C.hid_t(dset), (*C.longlong)(unsafe.Pointer(&buf[0]))))
}

// attrNames lists the attribute names of the object at obj (relative to
// loc) in name order.
func attrNames(loc int64, obj string) ([]string, error) {
	cobj := C.CString(obj)
	defer C.free(unsafe.Pointer(cobj))
	var names []string
	for i := 0; ; i++ {
		n := C.eandarn_attr_name(C.hid_t(loc), cobj, C.hsize_t(i), nil, 0)
		if n < 0 {
			// H5Aget_name_by_idx fails past the last index: that ends the list.
			return names, nil
		}
		buf := make([]byte, int(n)+1)
		n = C.eandarn_attr_name(C.hid_t(loc), cobj, C.hsize_t(i), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
		if n < 0 {
			return nil, errHDF5
		}
		names = append(names, string(buf[:n]))
	}
}

func attrExists(loc int64, obj, name string) (bool, error) {
	cobj, cname := C.CString(obj), C.CString(name)
	defer C.free(unsafe.Pointer(cobj))
	defer C.free(unsafe.Pointer(cname))
	r := C.eandarn_attr_exists(C.hid_t(loc), cobj, cname)
	if r < 0 {
		return false, errHDF5
	}
	return r > 0, nil
}

func attrDelete(loc int64, obj, name string) error {
	cobj, cname := C.CString(obj), C.CString(name)
	defer C.free(unsafe.Pointer(cobj))
	defer C.free(unsafe.Pointer(cname))
	return status(C.eandarn_attr_delete(C.hid_t(loc), cobj, cname))
}

// attrClass returns the H5T class of an open attribute (hdf5.T_STRING,
// hdf5.T_FLOAT, ...), or -1.
func attrClass(attr int64) int {
	return int(C.eandarn_attr_class(C.hid_t(attr)))
}

// readFixedString reads a fixed-length string attribute without its
// padding: the string ends at the first NUL (null-terminated or null-padded
// strings, h5py's and C's), or before the trailing spaces of a space-padded
// one (Fortran's: a units attribute "mV" stored in 8 characters reads
// "mV"); ok is false for variable-length strings, which the binding reads.
// (The binding's own fixed-length path leaves the C buffer unterminated when
// the string fills its declared size, as h5py's np.bytes_ attributes do.)
func readFixedString(attr int64) (s string, ok bool, err error) {
	n := C.eandarn_attr_fixed_str_size(C.hid_t(attr))
	switch {
	case n < 0:
		return "", false, errHDF5
	case n == 0:
		return "", false, nil
	}
	buf := make([]byte, int(n))
	var spacepad C.int
	if err := status(C.eandarn_attr_read_fixed(C.hid_t(attr), (*C.char)(unsafe.Pointer(&buf[0])), &spacepad)); err != nil {
		return "", true, err
	}
	if spacepad != 0 {
		return strings.TrimRight(string(buf), " "), true, nil
	}
	s, _, _ = strings.Cut(string(buf), "\x00")
	return s, true, nil
}
