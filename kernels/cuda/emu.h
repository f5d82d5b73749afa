// emu.h: the C interface of the emulator (emu.cc) for cgo (emu.go).
#ifndef EANDARN_EMU_H
#define EANDARN_EMU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// emu_launch runs kernel name on a gx x gy x gz grid of bx x by x bz blocks
// with `shared` bytes of dynamic shared memory and nargs 8-byte arguments.
// It returns 0, or 1 with a message in err.
int emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
	       unsigned long long shared, const uint64_t* args, int nargs, char* err, int errlen);

// The kernels the emulator knows, by index.
int emu_num_kernels(void);
const char* emu_kernel_name(int i);

#ifdef __cplusplus
}
#endif

#endif
