//go:build !cuda

package cuda

/*
#cgo CXXFLAGS: -std=c++20 -O2 -pthread -Wall
#cgo LDFLAGS: -pthread
#include <stdlib.h>
#include <string.h>
#include "emu.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/eandarn/eandarn/kernels"
)

// Emulator is the Device that runs the .cu kernels on the CPU (emu.cc,
// execution model in emu.hpp): device memory is C heap memory, launches run
// block after block with the threads of a block as OS threads. It checks the
// kernels' logic, not their speed.
type Emulator struct {
	mu     sync.Mutex
	allocs map[Ptr]allocation // live allocations by address
}

// allocation is a block of C memory handed out by Alloc.
type allocation struct {
	p     unsafe.Pointer
	bytes int
}

// RegisterEmulator registers the backend on the emulator as "emulator"
// (once; later calls do nothing), so that tests elsewhere (kerneltest,
// solver/pinn's step against the CPU) can open it by name. The emulator is
// not registered by default: it checks the kernels' logic and is far too
// slow to train with.
func RegisterEmulator() {
	registerEmulator.Do(func() {
		kernels.Register("emulator", func(kernels.Options) (kernels.Backend, error) {
			return NewBackend("emulator", NewEmulator()), nil
		})
	})
}

var registerEmulator sync.Once

// NewEmulator returns an emulated device.
func NewEmulator() *Emulator { return &Emulator{allocs: map[Ptr]allocation{}} }

var _ Device = (*Emulator)(nil)

// Name returns "emulator".
func (e *Emulator) Name() string { return "emulator" }

// Alloc returns zeroed C memory (at least one byte, so every allocation has
// its own address).
func (e *Emulator) Alloc(bytes int) (Ptr, error) {
	if bytes < 0 {
		return 0, fmt.Errorf("cuda: emulator: alloc %d bytes", bytes)
	}
	p := C.calloc(1, C.size_t(max(bytes, 1)))
	if p == nil {
		return 0, fmt.Errorf("cuda: emulator: alloc %d bytes: out of memory", bytes)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	a := Ptr(uintptr(p))
	e.allocs[a] = allocation{p, bytes}
	return a, nil
}

// Free releases p.
func (e *Emulator) Free(p Ptr) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.allocs[p]
	if !ok {
		return fmt.Errorf("cuda: emulator: free %#x: not an allocation", uint64(p))
	}
	delete(e.allocs, p)
	C.free(a.p)
	return nil
}

// resolve returns the host address of [p, p+bytes), which must lie inside
// one live allocation.
func (e *Emulator) resolve(p Ptr, bytes int, op string) (unsafe.Pointer, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for base, a := range e.allocs {
		if p >= base && uint64(p)+uint64(bytes) <= uint64(base)+uint64(a.bytes) {
			return unsafe.Add(a.p, p-base), nil
		}
	}
	return nil, fmt.Errorf("cuda: emulator: %s %d bytes at %#x: outside every allocation", op, bytes, uint64(p))
}

// CopyIn copies host memory to the device.
func (e *Emulator) CopyIn(dst Ptr, src unsafe.Pointer, bytes int) error {
	d, err := e.resolve(dst, bytes, "copy in")
	if err != nil {
		return err
	}
	if bytes > 0 {
		C.memcpy(d, src, C.size_t(bytes))
	}
	return nil
}

// CopyOut copies device memory to the host.
func (e *Emulator) CopyOut(dst unsafe.Pointer, src Ptr, bytes int) error {
	s, err := e.resolve(src, bytes, "copy out")
	if err != nil {
		return err
	}
	if bytes > 0 {
		C.memcpy(dst, s, C.size_t(bytes))
	}
	return nil
}

// Launch runs a kernel of the emulator's table.
func (e *Emulator) Launch(kernel string, grid, block Dim, shared int, args []uint64) error {
	g, b := grid.norm(), block.norm()
	name := C.CString(kernel)
	defer C.free(unsafe.Pointer(name))
	// The arguments go through C memory: they are read by the kernel threads.
	n := max(len(args), 1)
	a := (*[1 << 20]C.uint64_t)(C.malloc(C.size_t(8 * n)))[:n:n]
	defer C.free(unsafe.Pointer(&a[0]))
	for i, v := range args {
		a[i] = C.uint64_t(v)
	}
	var msg [256]C.char
	if C.emu_launch(name, C.uint(g.X), C.uint(g.Y), C.uint(g.Z), C.uint(b.X), C.uint(b.Y), C.uint(b.Z),
		C.ulonglong(shared), &a[0], C.int(len(args)), &msg[0], C.int(len(msg))) != 0 {
		return fmt.Errorf("cuda: emulator: launch %s grid %v block %v shared %d: %s", kernel, g, b, shared, C.GoString(&msg[0]))
	}
	return nil
}

// Close frees every live allocation.
func (e *Emulator) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.allocs {
		C.free(a.p)
	}
	clear(e.allocs)
	return nil
}

// emulatorKernels returns the names in the emulator's kernel table.
func emulatorKernels() []string {
	names := make([]string, C.emu_num_kernels())
	for i := range names {
		names[i] = C.GoString(C.emu_kernel_name(C.int(i)))
	}
	return names
}
