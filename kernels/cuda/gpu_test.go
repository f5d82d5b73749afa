//go:build cuda

package cuda

import "testing"

// The tests of this package run on the first GPU under -tags cuda (the
// emulator otherwise, emu_test.go): testBackend names the registered
// backend, testDevice opens a device.
const testBackend = "cuda"

func testDevice(t testing.TB) Device {
	g, err := NewGPU(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Error(err)
		}
	})
	return g
}
