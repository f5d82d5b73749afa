package cuda

import (
	"math"
	"unsafe"
)

// Ptr is an address in a Device's memory.
type Ptr uint64

// Dim is a launch dimension (grid or block); zero components count as 1.
type Dim struct{ X, Y, Z int }

// Device is the seam between the backend (one Go implementation) and what
// runs its kernels: the GPU through gorgonia.org/cu (NewGPU, build tag
// cuda) or the CPU emulator (NewEmulator, without the tag). A Device runs
// one launch or copy at a time, in call order.
type Device interface {
	// Name is the card's name, e.g. "NVIDIA H200", or "emulator".
	Name() string
	// Alloc returns bytes bytes of device memory, zeroed.
	Alloc(bytes int) (Ptr, error)
	// Free releases memory returned by Alloc.
	Free(p Ptr) error
	// CopyIn copies bytes bytes from host memory at src to dst.
	CopyIn(dst Ptr, src unsafe.Pointer, bytes int) error
	// CopyOut copies bytes bytes from src to host memory at dst; it waits
	// for the launches before it.
	CopyOut(dst unsafe.Pointer, src Ptr, bytes int) error
	// Launch runs the kernel of that name on grid x block threads with
	// shared bytes of dynamic shared memory. Every argument is one 8-byte
	// word (Args builds them): gorgonia.org/cu passes every kernel
	// argument as 8 bytes, so kernels take only pointers, long long and
	// double.
	Launch(kernel string, grid, block Dim, shared int, args []uint64) error
	// Close releases the device; the Device must not be used afterwards.
	Close() error
}

// Arg is one 8-byte kernel argument.
type Arg = uint64

// P, I and F encode a device pointer, an integer (long long) and a double
// (its bits) as kernel arguments.
func P(p Ptr) Arg         { return uint64(p) }
func I(v int) Arg         { return uint64(int64(v)) }
func F(v float64) Arg     { return math.Float64bits(v) }
func Args(a ...Arg) []Arg { return a }

func (d Dim) norm() Dim {
	return Dim{max(d.X, 1), max(d.Y, 1), max(d.Z, 1)}
}

// Elem is an element type of device arrays.
type Elem interface {
	~float32 | ~float64 | ~int32 | ~int64 | ~uint64
}

// Put copies src into device memory at dst.
func Put[T Elem](d Device, dst Ptr, src []T) error {
	if len(src) == 0 {
		return nil
	}
	return d.CopyIn(dst, unsafe.Pointer(&src[0]), len(src)*int(unsafe.Sizeof(src[0])))
}

// Get copies len(dst) elements from device memory at src into dst.
func Get[T Elem](d Device, dst []T, src Ptr) error {
	if len(dst) == 0 {
		return nil
	}
	return d.CopyOut(unsafe.Pointer(&dst[0]), src, len(dst)*int(unsafe.Sizeof(dst[0])))
}

// AllocPut allocates room for src on d and copies it there.
func AllocPut[T Elem](d Device, src []T) (Ptr, error) {
	var z T
	p, err := d.Alloc(len(src) * int(sizeofElem(z)))
	if err != nil {
		return 0, err
	}
	if err := Put(d, p, src); err != nil {
		d.Free(p)
		return 0, err
	}
	return p, nil
}

func sizeofElem[T Elem](v T) uintptr { return unsafe.Sizeof(v) }
