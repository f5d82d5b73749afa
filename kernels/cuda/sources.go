package cuda

import "embed"

// sources holds the CUDA C sources. Embedding them makes the Go build cache
// track them (the emulator's cgo build includes them, and go build does not
// hash .cu/.cuh files otherwise) and lets TestPTXUpToDate compare their hash
// with the one make ptx recorded.
//
//go:embed *.cu *.cuh emu.hpp kernels.inc
var sources embed.FS
