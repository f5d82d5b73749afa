//go:build cuda

package cuda

import (
	"embed"
	"fmt"
	"path"
	"runtime"
	"sync"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/eandarn/eandarn/kernels"
)

// The CUDA build registers the backend on the first card as "cuda".
func init() {
	kernels.Register("cuda", func(kernels.Options) (kernels.Backend, error) {
		g, err := NewGPU(0)
		if err != nil {
			return nil, err
		}
		return NewBackend("cuda", g), nil
	})
}

// ptx holds the kernels compiled by make ptx for compute_80 and compute_90;
// the driver JIT-compiles them for the card when they are loaded.
//
//go:embed ptx/*.ptx
var ptx embed.FS

// GPU is the Device of a CUDA card, through gorgonia.org/cu (the CUDA driver
// API; only the root package, which links libcuda.so.1 alone). Every call
// binds the card's primary context to the calling OS thread first, so a GPU
// may be used from any goroutine (one call at a time).
type GPU struct {
	mu   sync.Mutex
	dev  cu.Device
	ctx  cu.CUContext
	name string
	cc   [2]int // compute capability
	mods []cu.Module
	fns  map[string]cu.Function
}

var _ Device = (*GPU)(nil)

// NewGPU opens card ordinal (0 is the first): its primary context and the
// PTX modules of its generation (compute_90 from capability 9.0 on, else
// compute_80; capabilities below 8.0 are refused).
func NewGPU(ordinal int) (*GPU, error) {
	g := &GPU{fns: map[string]cu.Function{}}
	err := func() error {
		n, err := cu.NumDevices()
		if err != nil {
			return err
		}
		if ordinal < 0 || ordinal >= n {
			return fmt.Errorf("no CUDA device %d (%d present)", ordinal, n)
		}
		if g.dev, err = cu.GetDevice(ordinal); err != nil {
			return err
		}
		if g.name, err = g.dev.Name(); err != nil {
			return err
		}
		if g.cc[0], err = g.dev.Attribute(cu.ComputeCapabilityMajor); err != nil {
			return err
		}
		if g.cc[1], err = g.dev.Attribute(cu.ComputeCapabilityMinor); err != nil {
			return err
		}
		if g.cc[0] < 8 {
			return fmt.Errorf("%s has compute capability %d.%d; the kernels need 8.0 or later", g.name, g.cc[0], g.cc[1])
		}
		arch := "compute_80"
		if g.cc[0] >= 9 {
			arch = "compute_90"
		}
		if g.ctx, err = g.dev.RetainPrimaryCtx(); err != nil {
			return err
		}
		files, err := ptx.ReadDir("ptx")
		if err == nil {
			err = g.call(func() error {
				for _, f := range files {
					if ok, _ := path.Match("*."+arch+".ptx", f.Name()); !ok {
						continue
					}
					b, err := ptx.ReadFile("ptx/" + f.Name())
					if err != nil {
						return err
					}
					m, err := cu.LoadData(string(b))
					if err != nil {
						return fmt.Errorf("load %s: %w", f.Name(), err)
					}
					g.mods = append(g.mods, m)
				}
				return nil
			})
		}
		if err != nil {
			g.dev.ReleasePrimaryCtx()
		}
		return err
	}()
	if err != nil {
		return nil, fmt.Errorf("cuda: open device %d: %w", ordinal, err)
	}
	return g, nil
}

// call runs f with the card's context current on the calling OS thread.
func (g *GPU) call(f func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cu.SetCurrentContext(g.ctx); err != nil {
		return err
	}
	return f()
}

// Name returns the card's name, e.g. "NVIDIA H200".
func (g *GPU) Name() string { return g.name }

// Alloc returns zeroed device memory.
func (g *GPU) Alloc(bytes int) (Ptr, error) {
	var p cu.DevicePtr
	err := g.call(func() error {
		var err error
		if p, err = cu.MemAlloc(int64(max(bytes, 1))); err != nil {
			return err
		}
		return cu.MemsetD8(p, 0, int64(max(bytes, 1)))
	})
	if err != nil {
		return 0, fmt.Errorf("cuda: alloc %d bytes on %s: %w", bytes, g.name, err)
	}
	return Ptr(p), nil
}

// Free releases device memory.
func (g *GPU) Free(p Ptr) error {
	return g.call(func() error { return cu.MemFree(cu.DevicePtr(p)) })
}

// CopyIn copies host memory to the device (synchronous for the host: src
// may change once it returns).
func (g *GPU) CopyIn(dst Ptr, src unsafe.Pointer, bytes int) error {
	if bytes == 0 {
		return nil
	}
	return g.call(func() error { return cu.MemcpyHtoD(cu.DevicePtr(dst), src, int64(bytes)) })
}

// CopyOut copies device memory to the host after the launches before it;
// it reports the errors of those launches.
func (g *GPU) CopyOut(dst unsafe.Pointer, src Ptr, bytes int) error {
	if bytes == 0 {
		return nil
	}
	return g.call(func() error { return cu.MemcpyDtoH(dst, cu.DevicePtr(src), int64(bytes)) })
}

// Launch queues a kernel on the default stream.
func (g *GPU) Launch(kernel string, grid, block Dim, shared int, args []uint64) error {
	gd, bd := grid.norm(), block.norm()
	params := make([]unsafe.Pointer, len(args))
	for i := range args {
		params[i] = unsafe.Pointer(&args[i])
	}
	err := g.call(func() error {
		fn, ok := g.fns[kernel]
		if !ok {
			for _, m := range g.mods {
				if f, err := m.Function(kernel); err == nil {
					fn, ok = f, true
					break
				}
			}
			if !ok {
				return fmt.Errorf("no such kernel")
			}
			g.fns[kernel] = fn
		}
		return fn.Launch(gd.X, gd.Y, gd.Z, bd.X, bd.Y, bd.Z, shared, cu.Stream{}, params)
	})
	if err != nil {
		return fmt.Errorf("cuda: launch %s grid %v block %v shared %d on %s: %w", kernel, gd, bd, shared, g.name, err)
	}
	return nil
}

// Close unloads the modules and releases the primary context.
func (g *GPU) Close() error {
	err := g.call(func() error {
		if err := cu.Synchronize(); err != nil {
			return err
		}
		for _, m := range g.mods {
			if err := m.Unload(); err != nil {
				return err
			}
		}
		return nil
	})
	if rerr := g.dev.ReleasePrimaryCtx(); err == nil {
		err = rerr
	}
	return err
}
