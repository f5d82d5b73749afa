//go:build !cuda

// emu.cc: the CPU emulator of package kernels/cuda. It compiles every .cu
// source of the package against emu.hpp and launches its kernels by name
// (emu_launch), with the execution model described in emu.hpp. The Go side
// is emu.go.

#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

// EMU_FIBERS_ASM: the x86-64 context switch below; elsewhere (or with
// -DEMU_UCONTEXT, to test that path) ucontext.
#if defined(__x86_64__) && !defined(EMU_UCONTEXT)
#define EMU_FIBERS_ASM 1
#else
#include <ucontext.h>
#endif

#include "emu.h"

#include "cuda.cuh"

#include "gemm.cu"
#include "loss.cu"
#include "net.cu"
#include "ops.cu"
#include "reduce.cu"
#include "selftest.cu"
#include "sparse.cu"

namespace {

// word decodes argument i of type T from its 8-byte word.
template <class T>
T word(const uint64_t* a, size_t i) {
	T v;
	std::memcpy(&v, &a[i], sizeof v);
	return v;
}

template <class... A, size_t... I>
void call_words(void (*f)(A...), const uint64_t* a, std::index_sequence<I...>) {
	f(word<A>(a, I)...);
}

// call runs kernel f with its parameters decoded from 8-byte words.
template <class... A>
void call(void (*f)(A...), const uint64_t* a) {
	static_assert(((sizeof(A) == 8) && ...),
		      "kernel parameters must be 8-byte values (pointers, long long, double): gorgonia.org/cu passes every argument as 8 bytes");
	call_words(f, a, std::index_sequence_for<A...>{});
}

template <class... A>
constexpr int arity(void (*)(A...)) {
	return sizeof...(A);
}

struct Kernel {
	const char* name;
	int nargs;
	void (*run)(const uint64_t*);
};

#define EMU_KERNEL(k) {#k, arity(k), [](const uint64_t* a) { call(k, a); }}

// The kernels of the .cu sources; TestEmulatorKernelTable checks that this
// list names every extern "C" __global__ function of the sources.
const Kernel kernels[] = {
#include "kernels.inc"
};

#undef EMU_KERNEL

// Fibers. On x86-64 a context is a saved stack pointer: emu_switch pushes
// the callee-saved registers and the SSE/x87 control words on the current
// stack, stores the stack pointer in *from and pops the same from `to`'s
// stack. Elsewhere the fibers use ucontext (slower: a system call per
// switch; CGO_CXXFLAGS=-DEMU_UCONTEXT go test ./kernels/cuda runs it here).
#ifdef EMU_FIBERS_ASM
extern "C" void emu_switch(void** from, void* to);
extern "C" void emu_fiber_entry();
asm(R"(
	.text
	.p2align 4
	.globl emu_switch
	.hidden emu_switch
	.type emu_switch,@function
emu_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $8, %rsp
	stmxcsr (%rsp)
	fnstcw 4(%rsp)
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	ldmxcsr (%rsp)
	fldcw 4(%rsp)
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size emu_switch, .-emu_switch
	.p2align 4
	.globl emu_fiber_entry
	.hidden emu_fiber_entry
	.type emu_fiber_entry,@function
emu_fiber_entry:
	callq *%r12
	ud2
	.size emu_fiber_entry, .-emu_fiber_entry
)");

struct Context {
	void* sp = nullptr;
};

// make prepares a context that starts fn on the stack below top: the first
// switch to it "returns" into emu_fiber_entry, which calls fn (in r12) with
// the stack aligned as the ABI wants.
void make(Context& c, char* top, void (*fn)()) {
	auto* sp = reinterpret_cast<uint64_t*>(reinterpret_cast<uintptr_t>(top) & ~uintptr_t(15));
	*--sp = reinterpret_cast<uint64_t>(&emu_fiber_entry); // popped by ret: rsp is then 16-aligned
	*--sp = 0;					       // rbp
	*--sp = 0;					       // rbx
	*--sp = reinterpret_cast<uint64_t>(fn);		       // r12
	*--sp = 0;					       // r13
	*--sp = 0;					       // r14
	*--sp = 0;					       // r15
	uint32_t cw[2];
	asm volatile("stmxcsr %0" : "=m"(cw[0]));
	asm volatile("fnstcw %0" : "=m"(cw[1]));
	--sp;
	std::memcpy(sp, cw, 8);
	c.sp = sp;
}

void swap(Context& from, Context& to) { emu_switch(&from.sp, to.sp); }
#else
struct Context {
	ucontext_t uc;
};

void make(Context& c, char* top, void (*fn)(), size_t size) {
	getcontext(&c.uc);
	c.uc.uc_stack.ss_sp = top - size;
	c.uc.uc_stack.ss_size = size;
	c.uc.uc_link = nullptr;
	makecontext(&c.uc, fn, 0);
}

void swap(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
#endif

// A fiber is one GPU thread of the running block.
struct Fiber {
	Context ctx;
	char* top = nullptr;		// its stack, below a guard page
	bool done = false;		// returned from the kernel
	const char* file = nullptr;	// the __syncthreads it waits at
	int line = 0;
};

// stackBytes is each fiber's stack; a PROT_NONE guard page below it turns an
// overflow into a crash instead of silent corruption.
constexpr size_t stackBytes = 256 * 1024, guardBytes = 4096;

// The state of the running launch. One launch at a time (launchMu): the
// __shared__ statics and these variables are global.
std::mutex launchMu;
std::vector<Fiber> fibers; // grown to the largest block, stacks kept
Context scheduler;
Fiber* running;
void (*runKernel)(const uint64_t*);
const uint64_t* kernelArgs;

// fiberMain is the body of every fiber: the kernel for the current block.
void fiberMain() {
	runKernel(kernelArgs);
	running->done = true;
	swap(running->ctx, scheduler);
	__builtin_unreachable(); // never resumed
}

bool growFibers(size_t n) {
	while (fibers.size() < n) {
		void* m = mmap(nullptr, stackBytes + guardBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m == MAP_FAILED) {
			return false;
		}
		mprotect(m, guardBytes, PROT_NONE);
		Fiber f;
		f.top = static_cast<char*>(m) + guardBytes + stackBytes;
		fibers.push_back(f);
	}
	return true;
}

void setErr(char* err, int n, const char* msg) {
	if (n > 0) {
		std::snprintf(err, size_t(n), "%s", msg);
	}
}

// runBlock runs the threads of the current block in phases between
// barriers; it returns false with a message in err when threads wait at
// different barriers.
bool runBlock(unsigned n, char* err, int errlen) {
	for (unsigned t = 0; t < n; t++) {
		Fiber& f = fibers[t];
		f.done = false;
		f.file = nullptr;
#ifdef EMU_FIBERS_ASM
		make(f.ctx, f.top, fiberMain);
#else
		make(f.ctx, f.top, fiberMain, stackBytes);
#endif
	}
	for (unsigned phase = 0;; phase++) {
		unsigned waiting = 0;
		for (unsigned k = 0; k < n; k++) {
			unsigned t = phase % 2 == 0 ? k : n - 1 - k;
			Fiber& f = fibers[t];
			if (f.done) {
				continue;
			}
			threadIdx = uint3{t % blockDim.x, t / blockDim.x % blockDim.y, t / (blockDim.x * blockDim.y)};
			running = &f;
			swap(scheduler, f.ctx);
			if (!f.done) {
				waiting++;
			}
		}
		if (waiting == 0) {
			return true;
		}
		const Fiber* first = nullptr;
		for (unsigned t = 0; t < n; t++) {
			const Fiber& f = fibers[t];
			if (f.done) {
				continue;
			}
			if (first == nullptr) {
				first = &f;
			} else if (f.line != first->line || std::strcmp(f.file, first->file) != 0) {
				char msg[512];
				std::snprintf(msg, sizeof msg, "threads of block (%u,%u,%u) wait at different __syncthreads: %s:%d and %s:%d",
					      blockIdx.x, blockIdx.y, blockIdx.z, first->file, first->line, f.file, f.line);
				setErr(err, errlen, msg);
				return false;
			}
		}
	}
}

} // namespace

void emu::sync_threads(const char* file, int line) {
	running->file = file;
	running->line = line;
	swap(running->ctx, scheduler);
}

extern "C" int emu_num_kernels(void) { return int(sizeof kernels / sizeof kernels[0]); }

extern "C" const char* emu_kernel_name(int i) { return kernels[i].name; }

extern "C" int emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
			  unsigned long long shared, const uint64_t* args, int nargs, char* err, int errlen) {
	const Kernel* k = nullptr;
	for (const Kernel& c : kernels) {
		if (std::strcmp(c.name, name) == 0) {
			k = &c;
		}
	}
	if (k == nullptr) {
		setErr(err, errlen, "no such kernel");
		return 1;
	}
	if (k->nargs != nargs) {
		char msg[128];
		std::snprintf(msg, sizeof msg, "kernel takes %d arguments, got %d", k->nargs, nargs);
		setErr(err, errlen, msg);
		return 1;
	}
	// The limits of compute capability 8.0 and 9.0, so that a launch the GPU
	// would refuse fails here too.
	unsigned long long nthreads = (unsigned long long)bx * by * bz;
	if (nthreads == 0 || nthreads > 1024 || bz > 64 || gx == 0 || gy == 0 || gz == 0 || gx > 2147483647u || gy > 65535 ||
	    gz > 65535) {
		setErr(err, errlen, "launch dimensions outside the device limits (block ≤ 1024 threads, bz ≤ 64, grid y, z ≤ 65535)");
		return 1;
	}
	if (shared > 48 * 1024) {
		setErr(err, errlen, "dynamic shared memory above 48 KiB");
		return 1;
	}
	std::lock_guard<std::mutex> lock(launchMu);
	if (!growFibers(nthreads)) {
		setErr(err, errlen, "cannot map the fiber stacks");
		return 1;
	}
	std::vector<unsigned char> dyn(shared + 16);
	emu::dynamic_shared = dyn.data();
	runKernel = k->run;
	kernelArgs = args;
	gridDim = dim3{gx, gy, gz};
	blockDim = dim3{bx, by, bz};
	int rc = 0;
	for (unsigned z = 0; z < gz && rc == 0; z++) {
		for (unsigned y = 0; y < gy && rc == 0; y++) {
			for (unsigned x = 0; x < gx && rc == 0; x++) {
				blockIdx = uint3{x, y, z};
				if (!runBlock(unsigned(nthreads), err, errlen)) {
					rc = 1;
				}
			}
		}
	}
	emu::dynamic_shared = nullptr;
	return rc;
}
