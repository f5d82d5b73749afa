package gpu

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

// The few CUDA driver API entry points the probe needs, by pointer: the
// binary does not link libcuda (a CPU node has none), it loads it.
typedef int (*cu_init_t)(unsigned);
typedef int (*cu_count_t)(int*);
typedef int (*cu_get_t)(int*, int);
typedef int (*cu_name_t)(char*, int, int);
typedef int (*cu_attr_t)(int*, int, int);
typedef int (*cu_version_t)(int*);
typedef int (*cu_errname_t)(int, const char**);

enum { PROBE_OK, PROBE_NO_LIBRARY, PROBE_NO_SYMBOL, PROBE_CALL_FAILED, PROBE_NO_DEVICE };

// probe loads libcuda.so.1 and describes device 0. On failure it returns a
// PROBE_ code with the failing call in what and the driver's error code and
// name (or dlerror) in code and msg.
static int probe(char* name, int namelen, int* count, int* major, int* minor, int* driver,
		 const char** what, int* code, char* msg, int msglen) {
	void* h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char* e = dlerror();
		snprintf(msg, msglen, "%s", e ? e : "dlopen failed");
		return PROBE_NO_LIBRARY;
	}
	cu_init_t cuInit = (cu_init_t)dlsym(h, "cuInit");
	cu_count_t cuDeviceGetCount = (cu_count_t)dlsym(h, "cuDeviceGetCount");
	cu_get_t cuDeviceGet = (cu_get_t)dlsym(h, "cuDeviceGet");
	cu_name_t cuDeviceGetName = (cu_name_t)dlsym(h, "cuDeviceGetName");
	cu_attr_t cuDeviceGetAttribute = (cu_attr_t)dlsym(h, "cuDeviceGetAttribute");
	cu_version_t cuDriverGetVersion = (cu_version_t)dlsym(h, "cuDriverGetVersion");
	cu_errname_t cuGetErrorName = (cu_errname_t)dlsym(h, "cuGetErrorName");
	if (!cuInit || !cuDeviceGetCount || !cuDeviceGet || !cuDeviceGetName || !cuDeviceGetAttribute || !cuDriverGetVersion) {
		snprintf(msg, msglen, "libcuda.so.1 lacks a driver API entry point");
		return PROBE_NO_SYMBOL;
	}
	int dev, rc;
#define CALL(f, ...)                                                      \
	if ((rc = f(__VA_ARGS__)) != 0) {                                 \
		const char* s = NULL;                                     \
		if (cuGetErrorName) cuGetErrorName(rc, &s);                                       \
		*what = #f;                                               \
		*code = rc;                                               \
		snprintf(msg, msglen, "%s", s ? s : "unknown error");     \
		return PROBE_CALL_FAILED;                                 \
	}
	CALL(cuDriverGetVersion, driver)
	CALL(cuInit, 0)
	CALL(cuDeviceGetCount, count)
	if (*count == 0) {
		return PROBE_NO_DEVICE;
	}
	CALL(cuDeviceGet, &dev, 0)
	CALL(cuDeviceGetName, name, namelen, dev)
	CALL(cuDeviceGetAttribute, major, 75, dev) // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
	CALL(cuDeviceGetAttribute, minor, 76, dev) // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
#undef CALL
	return PROBE_OK;
}
*/
import "C"

import "fmt"

// Card describes the first CUDA device of a node.
type Card struct {
	Name         string // e.g. "NVIDIA H200"
	Devices      int    // devices visible to this process
	Major, Minor int    // compute capability
	Driver       int    // CUDA driver version, e.g. 13000 for 13.0
}

// MinMajor is the oldest compute capability the kernels support (the
// committed PTX is for compute_80 and compute_90).
const MinMajor = 8

// probeDriver loads the CUDA driver library with dlopen and describes
// device 0; the error names the cause: no driver library, a failing driver
// call (e.g. cuInit: CUDA_ERROR_NO_DEVICE), no device, or a card older than
// compute capability 8.0.
func probeDriver() (Card, error) {
	var name [256]C.char
	var msg [512]C.char
	var count, major, minor, driver, code C.int
	var what *C.char
	switch C.probe(&name[0], C.int(len(name)), &count, &major, &minor, &driver, &what, &code, &msg[0], C.int(len(msg))) {
	case C.PROBE_NO_LIBRARY:
		return Card{}, fmt.Errorf("no CUDA driver library (%s)", C.GoString(&msg[0]))
	case C.PROBE_NO_SYMBOL:
		return Card{}, fmt.Errorf("CUDA driver library unusable: %s", C.GoString(&msg[0]))
	case C.PROBE_CALL_FAILED:
		return Card{}, fmt.Errorf("CUDA driver: %s failed: %s (%d)", C.GoString(what), C.GoString(&msg[0]), int(code))
	case C.PROBE_NO_DEVICE:
		return Card{}, fmt.Errorf("CUDA driver %s: no CUDA device", driverVersion(int(driver)))
	}
	c := Card{Name: C.GoString(&name[0]), Devices: int(count), Major: int(major), Minor: int(minor), Driver: int(driver)}
	if c.Major < MinMajor {
		return c, fmt.Errorf("%s has compute capability %d.%d; the CUDA kernels need %d.0 or later", c.Name, c.Major, c.Minor, MinMajor)
	}
	return c, nil
}

func driverVersion(v int) string { return fmt.Sprintf("%d.%d", v/1000, v%1000/10) }
