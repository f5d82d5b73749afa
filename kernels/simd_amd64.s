//go:build !purego

#include "textflag.h"

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func matVecAVX2(z, w []float64, ldw, n int, x []float64, ldx int)
//
// z[c] = Σ_{j<n} w[j·ldw]·x[j·ldx+c] for c < len(z); n ≥ 1.
// Columns go in chunks of 32 (8 accumulators, enough to hide the FMA
// latency), then 4, then one at a time; j runs in increasing order for every
// column, so the result does not depend on the chunking.
TEXT ·matVecAVX2(SB), NOSPLIT, $0-96
	MOVQ z_base+0(FP), DI
	MOVQ z_len+8(FP), CX
	MOVQ w_base+24(FP), SI
	MOVQ ldw+48(FP), R13
	SHLQ $3, R13
	MOVQ n+56(FP), R8
	MOVQ x_base+64(FP), DX
	MOVQ ldx+88(FP), R9
	SHLQ $3, R9

chunk32:
	CMPQ CX, $32
	JLT chunk4
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	MOVQ SI, R10
	MOVQ DX, R11
	MOVQ R8, R12

loop32:
	VBROADCASTSD (R10), Y4
	VFMADD231PD (R11), Y4, Y0
	VFMADD231PD 32(R11), Y4, Y1
	VFMADD231PD 64(R11), Y4, Y2
	VFMADD231PD 96(R11), Y4, Y3
	VFMADD231PD 128(R11), Y4, Y5
	VFMADD231PD 160(R11), Y4, Y6
	VFMADD231PD 192(R11), Y4, Y7
	VFMADD231PD 224(R11), Y4, Y8
	ADDQ R13, R10
	ADDQ R9, R11
	DECQ R12
	JNZ  loop32
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VMOVUPD Y5, 128(DI)
	VMOVUPD Y6, 160(DI)
	VMOVUPD Y7, 192(DI)
	VMOVUPD Y8, 224(DI)
	ADDQ $256, DI
	ADDQ $256, DX
	SUBQ $32, CX
	JMP  chunk32

chunk4:
	CMPQ CX, $4
	JLT  tail
	VXORPD Y0, Y0, Y0
	MOVQ SI, R10
	MOVQ DX, R11
	MOVQ R8, R12

loop4:
	VBROADCASTSD (R10), Y4
	VFMADD231PD (R11), Y4, Y0
	ADDQ R13, R10
	ADDQ R9, R11
	DECQ R12
	JNZ  loop4
	VMOVUPD Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $4, CX
	JMP  chunk4

tail:
	CMPQ CX, $0
	JEQ  done
	VXORPD X0, X0, X0
	MOVQ SI, R10
	MOVQ DX, R11
	MOVQ R8, R12

loop1:
	VMOVSD (R10), X4
	VFMADD231SD (R11), X4, X0
	ADDQ R13, R10
	ADDQ R9, R11
	DECQ R12
	JNZ  loop1
	VMOVSD X0, (DI)
	ADDQ $8, DI
	ADDQ $8, DX
	DECQ CX
	JMP  tail

done:
	VZEROUPPER
	RET

// func dotAVX2(a, b []float64) float64
//
// Σ_{c<len(a)} a[c]·b[c] with four 4-wide partial sums over chunks of 16,
// then one over chunks of 4, combined in a fixed order, then the scalar tail.
TEXT ·dotAVX2(SB), NOSPLIT, $0-56
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3

dloop16:
	CMPQ CX, $16
	JLT  dloop4
	VMOVUPD (SI), Y4
	VMOVUPD 32(SI), Y5
	VMOVUPD 64(SI), Y6
	VMOVUPD 96(SI), Y7
	VFMADD231PD (DX), Y4, Y0
	VFMADD231PD 32(DX), Y5, Y1
	VFMADD231PD 64(DX), Y6, Y2
	VFMADD231PD 96(DX), Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DX
	SUBQ $16, CX
	JMP  dloop16

dloop4:
	CMPQ CX, $4
	JLT  dreduce
	VMOVUPD (SI), Y4
	VFMADD231PD (DX), Y4, Y0
	ADDQ $32, SI
	ADDQ $32, DX
	SUBQ $4, CX
	JMP  dloop4

dreduce:
	VADDPD Y1, Y0, Y0
	VADDPD Y3, Y2, Y2
	VADDPD Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VHADDPD X0, X0, X0

dtail:
	CMPQ CX, $0
	JEQ  ddone
	VMOVSD (SI), X4
	VFMADD231SD (DX), X4, X0
	ADDQ $8, SI
	ADDQ $8, DX
	DECQ CX
	JMP  dtail

ddone:
	VZEROUPPER
	MOVSD X0, ret+48(FP)
	RET

// Constants of tanhBiasAVX2, each replicated 4 times (one YMM register).
DATA tanhc<>+0(SB)/8, $0x7fffffffffffffff
DATA tanhc<>+8(SB)/8, $0x7fffffffffffffff
DATA tanhc<>+16(SB)/8, $0x7fffffffffffffff
DATA tanhc<>+24(SB)/8, $0x7fffffffffffffff
DATA tanhc<>+32(SB)/8, $0x4044000000000000
DATA tanhc<>+40(SB)/8, $0x4044000000000000
DATA tanhc<>+48(SB)/8, $0x4044000000000000
DATA tanhc<>+56(SB)/8, $0x4044000000000000
DATA tanhc<>+64(SB)/8, $0x3ff71547652b82fe
DATA tanhc<>+72(SB)/8, $0x3ff71547652b82fe
DATA tanhc<>+80(SB)/8, $0x3ff71547652b82fe
DATA tanhc<>+88(SB)/8, $0x3ff71547652b82fe
DATA tanhc<>+96(SB)/8, $0x3fe62e4200000000
DATA tanhc<>+104(SB)/8, $0x3fe62e4200000000
DATA tanhc<>+112(SB)/8, $0x3fe62e4200000000
DATA tanhc<>+120(SB)/8, $0x3fe62e4200000000
DATA tanhc<>+128(SB)/8, $0x3e9fdf473de6af28
DATA tanhc<>+136(SB)/8, $0x3e9fdf473de6af28
DATA tanhc<>+144(SB)/8, $0x3e9fdf473de6af28
DATA tanhc<>+152(SB)/8, $0x3e9fdf473de6af28
DATA tanhc<>+160(SB)/8, $0x3ff0000000000000
DATA tanhc<>+168(SB)/8, $0x3ff0000000000000
DATA tanhc<>+176(SB)/8, $0x3ff0000000000000
DATA tanhc<>+184(SB)/8, $0x3ff0000000000000
DATA tanhc<>+192(SB)/8, $0x4000000000000000
DATA tanhc<>+200(SB)/8, $0x4000000000000000
DATA tanhc<>+208(SB)/8, $0x4000000000000000
DATA tanhc<>+216(SB)/8, $0x4000000000000000
DATA tanhc<>+224(SB)/8, $0x3da93974a8c07c9d
DATA tanhc<>+232(SB)/8, $0x3da93974a8c07c9d
DATA tanhc<>+240(SB)/8, $0x3da93974a8c07c9d
DATA tanhc<>+248(SB)/8, $0x3da93974a8c07c9d
DATA tanhc<>+256(SB)/8, $0x3de6124613a86d09
DATA tanhc<>+264(SB)/8, $0x3de6124613a86d09
DATA tanhc<>+272(SB)/8, $0x3de6124613a86d09
DATA tanhc<>+280(SB)/8, $0x3de6124613a86d09
DATA tanhc<>+288(SB)/8, $0x3e21eed8eff8d898
DATA tanhc<>+296(SB)/8, $0x3e21eed8eff8d898
DATA tanhc<>+304(SB)/8, $0x3e21eed8eff8d898
DATA tanhc<>+312(SB)/8, $0x3e21eed8eff8d898
DATA tanhc<>+320(SB)/8, $0x3e5ae64567f544e4
DATA tanhc<>+328(SB)/8, $0x3e5ae64567f544e4
DATA tanhc<>+336(SB)/8, $0x3e5ae64567f544e4
DATA tanhc<>+344(SB)/8, $0x3e5ae64567f544e4
DATA tanhc<>+352(SB)/8, $0x3e927e4fb7789f5c
DATA tanhc<>+360(SB)/8, $0x3e927e4fb7789f5c
DATA tanhc<>+368(SB)/8, $0x3e927e4fb7789f5c
DATA tanhc<>+376(SB)/8, $0x3e927e4fb7789f5c
DATA tanhc<>+384(SB)/8, $0x3ec71de3a556c734
DATA tanhc<>+392(SB)/8, $0x3ec71de3a556c734
DATA tanhc<>+400(SB)/8, $0x3ec71de3a556c734
DATA tanhc<>+408(SB)/8, $0x3ec71de3a556c734
DATA tanhc<>+416(SB)/8, $0x3efa01a01a01a01a
DATA tanhc<>+424(SB)/8, $0x3efa01a01a01a01a
DATA tanhc<>+432(SB)/8, $0x3efa01a01a01a01a
DATA tanhc<>+440(SB)/8, $0x3efa01a01a01a01a
DATA tanhc<>+448(SB)/8, $0x3f2a01a01a01a01a
DATA tanhc<>+456(SB)/8, $0x3f2a01a01a01a01a
DATA tanhc<>+464(SB)/8, $0x3f2a01a01a01a01a
DATA tanhc<>+472(SB)/8, $0x3f2a01a01a01a01a
DATA tanhc<>+480(SB)/8, $0x3f56c16c16c16c17
DATA tanhc<>+488(SB)/8, $0x3f56c16c16c16c17
DATA tanhc<>+496(SB)/8, $0x3f56c16c16c16c17
DATA tanhc<>+504(SB)/8, $0x3f56c16c16c16c17
DATA tanhc<>+512(SB)/8, $0x3f81111111111111
DATA tanhc<>+520(SB)/8, $0x3f81111111111111
DATA tanhc<>+528(SB)/8, $0x3f81111111111111
DATA tanhc<>+536(SB)/8, $0x3f81111111111111
DATA tanhc<>+544(SB)/8, $0x3fa5555555555555
DATA tanhc<>+552(SB)/8, $0x3fa5555555555555
DATA tanhc<>+560(SB)/8, $0x3fa5555555555555
DATA tanhc<>+568(SB)/8, $0x3fa5555555555555
DATA tanhc<>+576(SB)/8, $0x3fc5555555555555
DATA tanhc<>+584(SB)/8, $0x3fc5555555555555
DATA tanhc<>+592(SB)/8, $0x3fc5555555555555
DATA tanhc<>+600(SB)/8, $0x3fc5555555555555
DATA tanhc<>+608(SB)/8, $0x3fe0000000000000
DATA tanhc<>+616(SB)/8, $0x3fe0000000000000
DATA tanhc<>+624(SB)/8, $0x3fe0000000000000
DATA tanhc<>+632(SB)/8, $0x3fe0000000000000
DATA tanhc<>+640(SB)/8, $0x3ff0000000000000
DATA tanhc<>+648(SB)/8, $0x3ff0000000000000
DATA tanhc<>+656(SB)/8, $0x3ff0000000000000
DATA tanhc<>+664(SB)/8, $0x3ff0000000000000
GLOBL tanhc<>(SB), RODATA|NOPTR, $672

// func tanhBiasAVX2(z []float64, b float64)
//
// z[c] = tanh(z[c] + b) for c < len(z), len(z) a multiple of 4. With
// m = min(2|x|, 40) and e = expm1(−m) = 2^k·q(r) + (2^k − 1), where
// −m = k·ln2 + r, |r| ≤ ln2/2 and q(r) = Σ_{i=1..14} r^i/i! (truncation
// < 1e-17 relative): tanh x = sign(x)·(−e)/(2 + e). Accurate to a few ulp
// for every x (no cancellation near 0); NaN propagates; tanh(±Inf) = ±1.
TEXT ·tanhBiasAVX2(SB), NOSPLIT, $0-32
	MOVQ z_base+0(FP), DI
	MOVQ z_len+8(FP), CX
	VBROADCASTSD b+24(FP), Y15
	LEAQ tanhc<>(SB), SI
	VMOVUPD 0(SI), Y14
	VMOVUPD 32(SI), Y13
	VMOVUPD 64(SI), Y12
	VMOVUPD 96(SI), Y11
	VMOVUPD 128(SI), Y10
	VMOVUPD 160(SI), Y9
	VMOVUPD 192(SI), Y8

tloop:
	CMPQ CX, $4
	JLT  tdone
	VADDPD (DI), Y15, Y0
	VANDPD Y14, Y0, Y1
	VXORPD Y1, Y0, Y2
	VADDPD Y1, Y1, Y1
	VMINPD Y1, Y13, Y1
	VXORPD Y3, Y3, Y3
	VSUBPD Y1, Y3, Y1
	VMULPD Y12, Y1, Y3
	VROUNDPD $0, Y3, Y3
	VFNMADD231PD Y11, Y3, Y1
	VFNMADD231PD Y10, Y3, Y1
	VMOVUPD 224(SI), Y4
	VFMADD213PD 256(SI), Y1, Y4
	VFMADD213PD 288(SI), Y1, Y4
	VFMADD213PD 320(SI), Y1, Y4
	VFMADD213PD 352(SI), Y1, Y4
	VFMADD213PD 384(SI), Y1, Y4
	VFMADD213PD 416(SI), Y1, Y4
	VFMADD213PD 448(SI), Y1, Y4
	VFMADD213PD 480(SI), Y1, Y4
	VFMADD213PD 512(SI), Y1, Y4
	VFMADD213PD 544(SI), Y1, Y4
	VFMADD213PD 576(SI), Y1, Y4
	VFMADD213PD 608(SI), Y1, Y4
	VFMADD213PD 640(SI), Y1, Y4
	VMULPD Y1, Y4, Y4
	VCVTPD2DQY Y3, X5
	VPMOVSXDQ X5, Y5
	VPSLLQ $52, Y5, Y5
	VPADDQ Y9, Y5, Y5
	VSUBPD Y9, Y5, Y6
	VFMADD231PD Y4, Y5, Y6
	VXORPD Y7, Y7, Y7
	VSUBPD Y6, Y7, Y7
	VADDPD Y6, Y8, Y6
	VDIVPD Y6, Y7, Y7
	VORPD Y2, Y7, Y7
	VMOVUPD Y7, (DI)
	ADDQ $32, DI
	SUBQ $4, CX
	JMP  tloop

tdone:
	VZEROUPPER
	RET

// func outer2x4AVX2(a0, a1, x []float64, ldx int, out *[8]float64)
//
// out[r·4+k] = Σ_{c<len(a0)/4·4} a_r[c]·x[k·ldx+c] for r < 2, k < 4: eight
// dot products sharing their loads (6 loads per 8 FMAs), each summed in 4
// lanes over chunks of 4 columns, then the lanes added pairwise.
TEXT ·outer2x4AVX2(SB), NOSPLIT, $0-88
	MOVQ a0_base+0(FP), SI
	MOVQ a0_len+8(FP), CX
	MOVQ a1_base+24(FP), DI
	MOVQ x_base+48(FP), DX
	MOVQ ldx+72(FP), R9
	SHLQ $3, R9
	MOVQ out+80(FP), R10
	LEAQ (DX)(R9*1), R11
	LEAQ (R11)(R9*1), R12
	LEAQ (R12)(R9*1), R13
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	SHRQ $2, CX
	JZ   oreduce

oloop:
	VMOVUPD (SI), Y8
	VMOVUPD (DI), Y9
	VMOVUPD (DX), Y10
	VFMADD231PD Y10, Y8, Y0
	VFMADD231PD Y10, Y9, Y4
	VMOVUPD (R11), Y11
	VFMADD231PD Y11, Y8, Y1
	VFMADD231PD Y11, Y9, Y5
	VMOVUPD (R12), Y12
	VFMADD231PD Y12, Y8, Y2
	VFMADD231PD Y12, Y9, Y6
	VMOVUPD (R13), Y13
	VFMADD231PD Y13, Y8, Y3
	VFMADD231PD Y13, Y9, Y7
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R13
	DECQ CX
	JNZ  oloop

oreduce:
	VEXTRACTF128 $1, Y0, X14
	VADDPD X14, X0, X0
	VHADDPD X0, X0, X0
	VMOVSD X0, 0(R10)
	VEXTRACTF128 $1, Y1, X14
	VADDPD X14, X1, X1
	VHADDPD X1, X1, X1
	VMOVSD X1, 8(R10)
	VEXTRACTF128 $1, Y2, X14
	VADDPD X14, X2, X2
	VHADDPD X2, X2, X2
	VMOVSD X2, 16(R10)
	VEXTRACTF128 $1, Y3, X14
	VADDPD X14, X3, X3
	VHADDPD X3, X3, X3
	VMOVSD X3, 24(R10)
	VEXTRACTF128 $1, Y4, X14
	VADDPD X14, X4, X4
	VHADDPD X4, X4, X4
	VMOVSD X4, 32(R10)
	VEXTRACTF128 $1, Y5, X14
	VADDPD X14, X5, X5
	VHADDPD X5, X5, X5
	VMOVSD X5, 40(R10)
	VEXTRACTF128 $1, Y6, X14
	VADDPD X14, X6, X6
	VHADDPD X6, X6, X6
	VMOVSD X6, 48(R10)
	VEXTRACTF128 $1, Y7, X14
	VADDPD X14, X7, X7
	VHADDPD X7, X7, X7
	VMOVSD X7, 56(R10)
	VZEROUPPER
	RET

// func mulTanhDerivAVX2(g, a []float64)
//
// g[c] = g[c]·(1 − a[c]·a[c]) for c < len(g), len(g) a multiple of 4, every
// operation rounded (no FMA) like the pure-Go loop.
TEXT ·mulTanhDerivAVX2(SB), NOSPLIT, $0-48
	MOVQ g_base+0(FP), DI
	MOVQ g_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	VMOVUPD tanhc<>+160(SB), Y3 // 1

mloop:
	CMPQ CX, $4
	JLT  mdone
	VMOVUPD (SI), Y0
	VMULPD Y0, Y0, Y0
	VSUBPD Y0, Y3, Y0
	VMULPD (DI), Y0, Y0
	VMOVUPD Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $4, CX
	JMP  mloop

mdone:
	VZEROUPPER
	RET

// The float32 kernels: the twins of the float64 ones above with 8 lanes per
// YMM register.

// func matVecAVX2F32(z, w []float32, ldw, n int, x []float32, ldx int)
//
// z[c] = Σ_{j<n} w[j·ldw]·x[j·ldx+c] for c < len(z); n ≥ 1. Columns go in
// chunks of 64 (8 accumulators), then 8, then one at a time; j runs in
// increasing order for every column.
TEXT ·matVecAVX2F32(SB), NOSPLIT, $0-96
	MOVQ z_base+0(FP), DI
	MOVQ z_len+8(FP), CX
	MOVQ w_base+24(FP), SI
	MOVQ ldw+48(FP), R13
	SHLQ $2, R13
	MOVQ n+56(FP), R8
	MOVQ x_base+64(FP), DX
	MOVQ ldx+88(FP), R9
	SHLQ $2, R9

fchunk64:
	CMPQ CX, $64
	JLT  fchunk8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	MOVQ SI, R10
	MOVQ DX, R11
	MOVQ R8, R12

floop64:
	VBROADCASTSS (R10), Y4
	VFMADD231PS (R11), Y4, Y0
	VFMADD231PS 32(R11), Y4, Y1
	VFMADD231PS 64(R11), Y4, Y2
	VFMADD231PS 96(R11), Y4, Y3
	VFMADD231PS 128(R11), Y4, Y5
	VFMADD231PS 160(R11), Y4, Y6
	VFMADD231PS 192(R11), Y4, Y7
	VFMADD231PS 224(R11), Y4, Y8
	ADDQ R13, R10
	ADDQ R9, R11
	DECQ R12
	JNZ  floop64
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y5, 128(DI)
	VMOVUPS Y6, 160(DI)
	VMOVUPS Y7, 192(DI)
	VMOVUPS Y8, 224(DI)
	ADDQ $256, DI
	ADDQ $256, DX
	SUBQ $64, CX
	JMP  fchunk64

fchunk8:
	CMPQ CX, $8
	JLT  ftail
	VXORPS Y0, Y0, Y0
	MOVQ SI, R10
	MOVQ DX, R11
	MOVQ R8, R12

floop8:
	VBROADCASTSS (R10), Y4
	VFMADD231PS (R11), Y4, Y0
	ADDQ R13, R10
	ADDQ R9, R11
	DECQ R12
	JNZ  floop8
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $8, CX
	JMP  fchunk8

ftail:
	CMPQ CX, $0
	JEQ  fdone
	VXORPS X0, X0, X0
	MOVQ SI, R10
	MOVQ DX, R11
	MOVQ R8, R12

floop1:
	VMOVSS (R10), X4
	VFMADD231SS (R11), X4, X0
	ADDQ R13, R10
	ADDQ R9, R11
	DECQ R12
	JNZ  floop1
	VMOVSS X0, (DI)
	ADDQ $4, DI
	ADDQ $4, DX
	DECQ CX
	JMP  ftail

fdone:
	VZEROUPPER
	RET

// func dotAVX2F32(a, b []float32) float32
//
// Σ_{c<len(a)} a[c]·b[c] with four 8-wide partial sums over chunks of 32,
// then one over chunks of 8, combined in a fixed order, then the scalar tail.
TEXT ·dotAVX2F32(SB), NOSPLIT, $0-52
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

fdloop32:
	CMPQ CX, $32
	JLT  fdloop8
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VFMADD231PS (DX), Y4, Y0
	VFMADD231PS 32(DX), Y5, Y1
	VFMADD231PS 64(DX), Y6, Y2
	VFMADD231PS 96(DX), Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DX
	SUBQ $32, CX
	JMP  fdloop32

fdloop8:
	CMPQ CX, $8
	JLT  fdreduce
	VMOVUPS (SI), Y4
	VFMADD231PS (DX), Y4, Y0
	ADDQ $32, SI
	ADDQ $32, DX
	SUBQ $8, CX
	JMP  fdloop8

fdreduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0

fdtail:
	CMPQ CX, $0
	JEQ  fddone
	VMOVSS (SI), X4
	VFMADD231SS (DX), X4, X0
	ADDQ $4, SI
	ADDQ $4, DX
	DECQ CX
	JMP  fdtail

fddone:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func outer2x4AVX2F32(a0, a1, x []float32, ldx int, out *[8]float32)
//
// out[r·4+k] = Σ_{c<len(a0)/8·8} a_r[c]·x[k·ldx+c] for r < 2, k < 4: eight
// dot products sharing their loads, each summed in 8 lanes over chunks of 8
// columns, then the lanes added pairwise (halves, then neighbours).
TEXT ·outer2x4AVX2F32(SB), NOSPLIT, $0-88
	MOVQ a0_base+0(FP), SI
	MOVQ a0_len+8(FP), CX
	MOVQ a1_base+24(FP), DI
	MOVQ x_base+48(FP), DX
	MOVQ ldx+72(FP), R9
	SHLQ $2, R9
	MOVQ out+80(FP), R10
	LEAQ (DX)(R9*1), R11
	LEAQ (R11)(R9*1), R12
	LEAQ (R12)(R9*1), R13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	SHRQ $3, CX
	JZ   foreduce

foloop:
	VMOVUPS (SI), Y8
	VMOVUPS (DI), Y9
	VMOVUPS (DX), Y10
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y10, Y9, Y4
	VMOVUPS (R11), Y11
	VFMADD231PS Y11, Y8, Y1
	VFMADD231PS Y11, Y9, Y5
	VMOVUPS (R12), Y12
	VFMADD231PS Y12, Y8, Y2
	VFMADD231PS Y12, Y9, Y6
	VMOVUPS (R13), Y13
	VFMADD231PS Y13, Y8, Y3
	VFMADD231PS Y13, Y9, Y7
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R13
	DECQ CX
	JNZ  foloop

foreduce:
	VEXTRACTF128 $1, Y0, X14
	VADDPS X14, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS X0, 0(R10)
	VEXTRACTF128 $1, Y1, X14
	VADDPS X14, X1, X1
	VHADDPS X1, X1, X1
	VHADDPS X1, X1, X1
	VMOVSS X1, 4(R10)
	VEXTRACTF128 $1, Y2, X14
	VADDPS X14, X2, X2
	VHADDPS X2, X2, X2
	VHADDPS X2, X2, X2
	VMOVSS X2, 8(R10)
	VEXTRACTF128 $1, Y3, X14
	VADDPS X14, X3, X3
	VHADDPS X3, X3, X3
	VHADDPS X3, X3, X3
	VMOVSS X3, 12(R10)
	VEXTRACTF128 $1, Y4, X14
	VADDPS X14, X4, X4
	VHADDPS X4, X4, X4
	VHADDPS X4, X4, X4
	VMOVSS X4, 16(R10)
	VEXTRACTF128 $1, Y5, X14
	VADDPS X14, X5, X5
	VHADDPS X5, X5, X5
	VHADDPS X5, X5, X5
	VMOVSS X5, 20(R10)
	VEXTRACTF128 $1, Y6, X14
	VADDPS X14, X6, X6
	VHADDPS X6, X6, X6
	VHADDPS X6, X6, X6
	VMOVSS X6, 24(R10)
	VEXTRACTF128 $1, Y7, X14
	VADDPS X14, X7, X7
	VHADDPS X7, X7, X7
	VHADDPS X7, X7, X7
	VMOVSS X7, 28(R10)
	VZEROUPPER
	RET

// Constants of tanhBiasAVX2F32, each replicated 8 times (one YMM register):
// |x| mask, 20, log2 e, ln2 split in a high part of 15 bits (k·ln2hi is
// exact for |k| ≤ 29) and the rest, 1, 2, then 1/7!, 1/6!, …, 1/2, 1.
DATA tanhf<>+0(SB)/8, $0x7fffffff7fffffff
DATA tanhf<>+8(SB)/8, $0x7fffffff7fffffff
DATA tanhf<>+16(SB)/8, $0x7fffffff7fffffff
DATA tanhf<>+24(SB)/8, $0x7fffffff7fffffff
DATA tanhf<>+32(SB)/8, $0x41a0000041a00000
DATA tanhf<>+40(SB)/8, $0x41a0000041a00000
DATA tanhf<>+48(SB)/8, $0x41a0000041a00000
DATA tanhf<>+56(SB)/8, $0x41a0000041a00000
DATA tanhf<>+64(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA tanhf<>+72(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA tanhf<>+80(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA tanhf<>+88(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA tanhf<>+96(SB)/8, $0x3f3172003f317200
DATA tanhf<>+104(SB)/8, $0x3f3172003f317200
DATA tanhf<>+112(SB)/8, $0x3f3172003f317200
DATA tanhf<>+120(SB)/8, $0x3f3172003f317200
DATA tanhf<>+128(SB)/8, $0x35bfbe8e35bfbe8e
DATA tanhf<>+136(SB)/8, $0x35bfbe8e35bfbe8e
DATA tanhf<>+144(SB)/8, $0x35bfbe8e35bfbe8e
DATA tanhf<>+152(SB)/8, $0x35bfbe8e35bfbe8e
DATA tanhf<>+160(SB)/8, $0x3f8000003f800000
DATA tanhf<>+168(SB)/8, $0x3f8000003f800000
DATA tanhf<>+176(SB)/8, $0x3f8000003f800000
DATA tanhf<>+184(SB)/8, $0x3f8000003f800000
DATA tanhf<>+192(SB)/8, $0x4000000040000000
DATA tanhf<>+200(SB)/8, $0x4000000040000000
DATA tanhf<>+208(SB)/8, $0x4000000040000000
DATA tanhf<>+216(SB)/8, $0x4000000040000000
DATA tanhf<>+224(SB)/8, $0x39500d0139500d01
DATA tanhf<>+232(SB)/8, $0x39500d0139500d01
DATA tanhf<>+240(SB)/8, $0x39500d0139500d01
DATA tanhf<>+248(SB)/8, $0x39500d0139500d01
DATA tanhf<>+256(SB)/8, $0x3ab60b613ab60b61
DATA tanhf<>+264(SB)/8, $0x3ab60b613ab60b61
DATA tanhf<>+272(SB)/8, $0x3ab60b613ab60b61
DATA tanhf<>+280(SB)/8, $0x3ab60b613ab60b61
DATA tanhf<>+288(SB)/8, $0x3c0888893c088889
DATA tanhf<>+296(SB)/8, $0x3c0888893c088889
DATA tanhf<>+304(SB)/8, $0x3c0888893c088889
DATA tanhf<>+312(SB)/8, $0x3c0888893c088889
DATA tanhf<>+320(SB)/8, $0x3d2aaaab3d2aaaab
DATA tanhf<>+328(SB)/8, $0x3d2aaaab3d2aaaab
DATA tanhf<>+336(SB)/8, $0x3d2aaaab3d2aaaab
DATA tanhf<>+344(SB)/8, $0x3d2aaaab3d2aaaab
DATA tanhf<>+352(SB)/8, $0x3e2aaaab3e2aaaab
DATA tanhf<>+360(SB)/8, $0x3e2aaaab3e2aaaab
DATA tanhf<>+368(SB)/8, $0x3e2aaaab3e2aaaab
DATA tanhf<>+376(SB)/8, $0x3e2aaaab3e2aaaab
DATA tanhf<>+384(SB)/8, $0x3f0000003f000000
DATA tanhf<>+392(SB)/8, $0x3f0000003f000000
DATA tanhf<>+400(SB)/8, $0x3f0000003f000000
DATA tanhf<>+408(SB)/8, $0x3f0000003f000000
DATA tanhf<>+416(SB)/8, $0x3f8000003f800000
DATA tanhf<>+424(SB)/8, $0x3f8000003f800000
DATA tanhf<>+432(SB)/8, $0x3f8000003f800000
DATA tanhf<>+440(SB)/8, $0x3f8000003f800000
GLOBL tanhf<>(SB), RODATA|NOPTR, $448

// func tanhBiasAVX2F32(z []float32, b float32)
//
// z[c] = tanh(z[c] + b) for c < len(z), len(z) a multiple of 8: the
// algorithm of tanhBiasAVX2 in float32. With m = min(2|x|, 20) (tanh rounds
// to ±1 in float32 beyond |x| ≈ 9) and e = expm1(−m) = 2^k·q(r) + (2^k − 1),
// where −m = k·ln2 + r, |r| ≤ ln2/2 and q(r) = Σ_{i=1..7} r^i/i!
// (truncation < 2e-8 relative): tanh x = sign(x)·(−e)/(2 + e). Accurate to
// a few ulp for every x; NaN propagates; tanh(±Inf) = ±1, tanh(±0) = ±0.
TEXT ·tanhBiasAVX2F32(SB), NOSPLIT, $0-28
	MOVQ z_base+0(FP), DI
	MOVQ z_len+8(FP), CX
	VBROADCASTSS b+24(FP), Y15
	LEAQ tanhf<>(SB), SI
	VMOVUPS 0(SI), Y14
	VMOVUPS 32(SI), Y13
	VMOVUPS 64(SI), Y12
	VMOVUPS 96(SI), Y11
	VMOVUPS 128(SI), Y10
	VMOVUPS 160(SI), Y9
	VMOVUPS 192(SI), Y8

ftloop:
	CMPQ CX, $8
	JLT  ftdone
	VADDPS (DI), Y15, Y0
	VANDPS Y14, Y0, Y1
	VXORPS Y1, Y0, Y2
	VADDPS Y1, Y1, Y1
	VMINPS Y1, Y13, Y1
	VXORPS Y3, Y3, Y3
	VSUBPS Y1, Y3, Y1
	VMULPS Y12, Y1, Y3
	VROUNDPS $0, Y3, Y3
	VFNMADD231PS Y11, Y3, Y1
	VFNMADD231PS Y10, Y3, Y1
	VMOVUPS 224(SI), Y4
	VFMADD213PS 256(SI), Y1, Y4
	VFMADD213PS 288(SI), Y1, Y4
	VFMADD213PS 320(SI), Y1, Y4
	VFMADD213PS 352(SI), Y1, Y4
	VFMADD213PS 384(SI), Y1, Y4
	VFMADD213PS 416(SI), Y1, Y4
	VMULPS Y1, Y4, Y4
	VCVTPS2DQ Y3, Y5
	VPSLLD $23, Y5, Y5
	VPADDD Y9, Y5, Y5
	VSUBPS Y9, Y5, Y6
	VFMADD231PS Y4, Y5, Y6
	VXORPS Y7, Y7, Y7
	VSUBPS Y6, Y7, Y7
	VADDPS Y6, Y8, Y6
	VDIVPS Y6, Y7, Y7
	VORPS Y2, Y7, Y7
	VMOVUPS Y7, (DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  ftloop

ftdone:
	VZEROUPPER
	RET

// func mulTanhDerivAVX2F32(g, a []float32)
//
// g[c] = g[c]·(1 − a[c]·a[c]) for c < len(g), len(g) a multiple of 8, every
// operation rounded (no FMA) like the pure-Go loop.
TEXT ·mulTanhDerivAVX2F32(SB), NOSPLIT, $0-48
	MOVQ g_base+0(FP), DI
	MOVQ g_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	VMOVUPS tanhf<>+160(SB), Y3 // 1

fmloop:
	CMPQ CX, $8
	JLT  fmdone
	VMOVUPS (SI), Y0
	VMULPS Y0, Y0, Y0
	VSUBPS Y0, Y3, Y0
	VMULPS (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  fmloop

fmdone:
	VZEROUPPER
	RET

// func mixAVX2(out, h, x []float64, a, b float64)
//
// out[i] = b·h[i] + a·x[i] for i < len(out), a multiple of 4; b = 1 − a.
// Products rounded before the sum (no FMA), as in Mix's Go loop.
TEXT ·mixAVX2(SB), NOSPLIT, $0-88
	MOVQ out_base+0(FP), DI
	MOVQ out_len+8(FP), CX
	MOVQ h_base+24(FP), SI
	MOVQ x_base+48(FP), DX
	VBROADCASTSD a+72(FP), Y0
	VBROADCASTSD b+80(FP), Y1

mixloop:
	CMPQ CX, $4
	JLT  mixdone
	VMULPD (SI), Y1, Y2
	VMULPD (DX), Y0, Y3
	VADDPD Y3, Y2, Y2
	VMOVUPD Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $4, CX
	JMP  mixloop

mixdone:
	VZEROUPPER
	RET

// func mixAVX2F32(out, h, x []float32, a, b float32)
//
// out[i] = b·h[i] + a·x[i] for i < len(out), a multiple of 8; b = 1 − a.
// Products rounded before the sum (no FMA), as in Mix's Go loop.
TEXT ·mixAVX2F32(SB), NOSPLIT, $0-80
	MOVQ out_base+0(FP), DI
	MOVQ out_len+8(FP), CX
	MOVQ h_base+24(FP), SI
	MOVQ x_base+48(FP), DX
	VBROADCASTSS a+72(FP), Y0
	VBROADCASTSS b+76(FP), Y1

mixF32loop:
	CMPQ CX, $8
	JLT  mixF32done
	VMULPS (SI), Y1, Y2
	VMULPS (DX), Y0, Y3
	VADDPS Y3, Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  mixF32loop

mixF32done:
	VZEROUPPER
	RET

// func mixAdjointAVX2(g, h, x, gh, gx []float64, a, b float64, acc *[16]float64)
//
// For i < len(g), a multiple of 4: gh[i] = b·g[i], gx[i] = a·g[i], and
// acc[l] = Σ_{i mod 4 = l} g[i]·(x[i] − h[i]) (l < 4) in increasing i, each
// product rounded before the sum (no FMA), as in mixAdjoint's Go loop.
TEXT ·mixAdjointAVX2(SB), NOSPLIT, $0-144
	MOVQ g_base+0(FP), SI
	MOVQ g_len+8(FP), CX
	MOVQ h_base+24(FP), R8
	MOVQ x_base+48(FP), R9
	MOVQ gh_base+72(FP), R10
	MOVQ gx_base+96(FP), R11
	VBROADCASTSD a+120(FP), Y0
	VBROADCASTSD b+128(FP), Y1
	MOVQ acc+136(FP), R12
	VXORPD Y2, Y2, Y2

madjloop:
	CMPQ CX, $4
	JLT  madjdone
	VMOVUPD (SI), Y3
	VMOVUPD (R9), Y4
	VSUBPD (R8), Y4, Y4
	VMULPD Y4, Y3, Y4
	VADDPD Y4, Y2, Y2
	VMULPD Y3, Y1, Y5
	VMOVUPD Y5, (R10)
	VMULPD Y3, Y0, Y6
	VMOVUPD Y6, (R11)
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	SUBQ $4, CX
	JMP  madjloop

madjdone:
	VMOVUPD Y2, (R12)
	VZEROUPPER
	RET

// func mixAdjointAVX2F32(g, h, x, gh, gx []float32, a, b float32, acc *[16]float32)
//
// For i < len(g), a multiple of 16: gh[i] = b·g[i], gx[i] = a·g[i], and
// acc[l] = Σ_{i mod 16 = l} g[i]·(x[i] − h[i]) in increasing i (two
// registers of partial sums, so consecutive chunks do not wait on one
// addition chain), each product rounded before the sum (no FMA), as in
// mixAdjoint's Go loop.
TEXT ·mixAdjointAVX2F32(SB), NOSPLIT, $0-136
	MOVQ g_base+0(FP), SI
	MOVQ g_len+8(FP), CX
	MOVQ h_base+24(FP), R8
	MOVQ x_base+48(FP), R9
	MOVQ gh_base+72(FP), R10
	MOVQ gx_base+96(FP), R11
	VBROADCASTSS a+120(FP), Y0
	VBROADCASTSS b+124(FP), Y1
	MOVQ acc+128(FP), R12
	VXORPS Y2, Y2, Y2
	VXORPS Y9, Y9, Y9

madjF32loop:
	CMPQ CX, $16
	JLT  madjF32done
	VMOVUPS (SI), Y3
	VMOVUPS 32(SI), Y7
	VMOVUPS (R9), Y4
	VMOVUPS 32(R9), Y8
	VSUBPS (R8), Y4, Y4
	VSUBPS 32(R8), Y8, Y8
	VMULPS Y4, Y3, Y4
	VMULPS Y8, Y7, Y8
	VADDPS Y4, Y2, Y2
	VADDPS Y8, Y9, Y9
	VMULPS Y3, Y1, Y5
	VMOVUPS Y5, (R10)
	VMULPS Y7, Y1, Y5
	VMOVUPS Y5, 32(R10)
	VMULPS Y3, Y0, Y6
	VMOVUPS Y6, (R11)
	VMULPS Y7, Y0, Y6
	VMOVUPS Y6, 32(R11)
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	SUBQ $16, CX
	JMP  madjF32loop

madjF32done:
	VMOVUPS Y2, (R12)
	VMOVUPS Y9, 32(R12)
	VZEROUPPER
	RET

// func sumAVX2F32(a []float32, acc *[16]float32)
//
// acc[l] = Σ_{c mod 16 = l} a[c] in increasing c, for len(a) a multiple of
// 16 (two registers of partial sums, so the additions do not wait on one
// chain).
TEXT ·sumAVX2F32(SB), NOSPLIT, $0-32
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ acc+24(FP), R12
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

sumF32loop:
	CMPQ CX, $16
	JLT  sumF32done
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  sumF32loop

sumF32done:
	VMOVUPS Y0, (R12)
	VMOVUPS Y1, 32(R12)
	VZEROUPPER
	RET

// func outer3x4AVX2F32(a0, a1, a2, x0, x1, x2, x3 []float32, out *[12]float32)
//
// out[r·4+k] = Σ_{c<len(a0)/8·8} a_r[c]·x_k[c] for r < 3, k < 4: twelve dot
// products sharing their loads (3 + 4 per 12 FMAs), each summed in 8 lanes
// over chunks of 8 columns, then the lanes added pairwise (halves, then
// neighbours), as outer2x4AVX2F32 sums each of its eight.
TEXT ·outer3x4AVX2F32(SB), NOSPLIT, $0-176
	MOVQ a0_base+0(FP), SI
	MOVQ a0_len+8(FP), CX
	MOVQ a1_base+24(FP), DI
	MOVQ a2_base+48(FP), R8
	MOVQ x0_base+72(FP), DX
	MOVQ x1_base+96(FP), R11
	MOVQ x2_base+120(FP), R12
	MOVQ x3_base+144(FP), R13
	MOVQ out+168(FP), R10
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	SHRQ $3, CX
	JZ   o34reduce

o34loop:
	VMOVUPS (SI), Y12
	VMOVUPS (DI), Y13
	VMOVUPS (R8), Y14
	VMOVUPS (DX), Y15
	VFMADD231PS Y15, Y12, Y0
	VFMADD231PS Y15, Y13, Y4
	VFMADD231PS Y15, Y14, Y8
	VMOVUPS (R11), Y15
	VFMADD231PS Y15, Y12, Y1
	VFMADD231PS Y15, Y13, Y5
	VFMADD231PS Y15, Y14, Y9
	VMOVUPS (R12), Y15
	VFMADD231PS Y15, Y12, Y2
	VFMADD231PS Y15, Y13, Y6
	VFMADD231PS Y15, Y14, Y10
	VMOVUPS (R13), Y15
	VFMADD231PS Y15, Y12, Y3
	VFMADD231PS Y15, Y13, Y7
	VFMADD231PS Y15, Y14, Y11
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, DX
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R13
	DECQ CX
	JNZ  o34loop

o34reduce:
	VEXTRACTF128 $1, Y0, X15
	VADDPS X15, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS X0, 0(R10)
	VEXTRACTF128 $1, Y1, X15
	VADDPS X15, X1, X1
	VHADDPS X1, X1, X1
	VHADDPS X1, X1, X1
	VMOVSS X1, 4(R10)
	VEXTRACTF128 $1, Y2, X15
	VADDPS X15, X2, X2
	VHADDPS X2, X2, X2
	VHADDPS X2, X2, X2
	VMOVSS X2, 8(R10)
	VEXTRACTF128 $1, Y3, X15
	VADDPS X15, X3, X3
	VHADDPS X3, X3, X3
	VHADDPS X3, X3, X3
	VMOVSS X3, 12(R10)
	VEXTRACTF128 $1, Y4, X15
	VADDPS X15, X4, X4
	VHADDPS X4, X4, X4
	VHADDPS X4, X4, X4
	VMOVSS X4, 16(R10)
	VEXTRACTF128 $1, Y5, X15
	VADDPS X15, X5, X5
	VHADDPS X5, X5, X5
	VHADDPS X5, X5, X5
	VMOVSS X5, 20(R10)
	VEXTRACTF128 $1, Y6, X15
	VADDPS X15, X6, X6
	VHADDPS X6, X6, X6
	VHADDPS X6, X6, X6
	VMOVSS X6, 24(R10)
	VEXTRACTF128 $1, Y7, X15
	VADDPS X15, X7, X7
	VHADDPS X7, X7, X7
	VHADDPS X7, X7, X7
	VMOVSS X7, 28(R10)
	VEXTRACTF128 $1, Y8, X15
	VADDPS X15, X8, X8
	VHADDPS X8, X8, X8
	VHADDPS X8, X8, X8
	VMOVSS X8, 32(R10)
	VEXTRACTF128 $1, Y9, X15
	VADDPS X15, X9, X9
	VHADDPS X9, X9, X9
	VHADDPS X9, X9, X9
	VMOVSS X9, 36(R10)
	VEXTRACTF128 $1, Y10, X15
	VADDPS X15, X10, X10
	VHADDPS X10, X10, X10
	VHADDPS X10, X10, X10
	VMOVSS X10, 40(R10)
	VEXTRACTF128 $1, Y11, X15
	VADDPS X15, X11, X11
	VHADDPS X11, X11, X11
	VHADDPS X11, X11, X11
	VMOVSS X11, 44(R10)
	VZEROUPPER
	RET

// func matVec3AVX2(z []float64, ldz int, w []float64, dw, ldw, n int, x []float64, ldx int)
//
// For r < 3 and c < len(z): z[r·ldz+c] = Σ_{j<n} w[r·dw+j·ldw]·x[j·ldx+c],
// n ≥ 1: three rows of matVecAVX2 sharing the loads of x. Every element
// is the same chain of fused multiply-adds from 0 in increasing j as in
// matVecAVX2, so the results are the same bits. Columns go in chunks of
// 16, then 4, then one at a time.
TEXT ·matVec3AVX2(SB), NOSPLIT, $0-112
	MOVQ z_base+0(FP), DI
	MOVQ z_len+8(FP), CX
	MOVQ ldz+24(FP), AX
	SHLQ $3, AX
	MOVQ w_base+32(FP), SI
	MOVQ dw+56(FP), BX
	SHLQ $3, BX
	MOVQ ldw+64(FP), R13
	SHLQ $3, R13
	MOVQ n+72(FP), R8
	MOVQ x_base+80(FP), DX
	MOVQ ldx+104(FP), R9
	SHLQ $3, R9

m3dchunk:
	CMPQ CX, $16
	JLT  m3dchunk1v
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	MOVQ SI, R10
	MOVQ DX, R11
	MOVQ R8, R12

m3dloop:
	VBROADCASTSD (R10), Y12
	VBROADCASTSD (R10)(BX*1), Y13
	VBROADCASTSD (R10)(BX*2), Y14
	VMOVUPD 0(R11), Y15
	VFMADD231PD Y15, Y12, Y0
	VFMADD231PD Y15, Y13, Y4
	VFMADD231PD Y15, Y14, Y8
	VMOVUPD 32(R11), Y15
	VFMADD231PD Y15, Y12, Y1
	VFMADD231PD Y15, Y13, Y5
	VFMADD231PD Y15, Y14, Y9
	VMOVUPD 64(R11), Y15
	VFMADD231PD Y15, Y12, Y2
	VFMADD231PD Y15, Y13, Y6
	VFMADD231PD Y15, Y14, Y10
	VMOVUPD 96(R11), Y15
	VFMADD231PD Y15, Y12, Y3
	VFMADD231PD Y15, Y13, Y7
	VFMADD231PD Y15, Y14, Y11
	ADDQ R13, R10
	ADDQ R9, R11
	DECQ R12
	JNZ  m3dloop
	VMOVUPD Y0, 0(DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VMOVUPD Y4, 0(DI)(AX*1)
	VMOVUPD Y5, 32(DI)(AX*1)
	VMOVUPD Y6, 64(DI)(AX*1)
	VMOVUPD Y7, 96(DI)(AX*1)
	VMOVUPD Y8, 0(DI)(AX*2)
	VMOVUPD Y9, 32(DI)(AX*2)
	VMOVUPD Y10, 64(DI)(AX*2)
	VMOVUPD Y11, 96(DI)(AX*2)
	ADDQ $128, DI
	ADDQ $128, DX
	SUBQ $16, CX
	JMP  m3dchunk

m3dchunk1v:
	CMPQ CX, $4
	JLT  m3dtail
	VXORPD Y0, Y0, Y0
	VXORPD Y4, Y4, Y4
	VXORPD Y8, Y8, Y8
	MOVQ SI, R10
	MOVQ DX, R11
	MOVQ R8, R12

m3dloop1v:
	VBROADCASTSD (R10), Y12
	VBROADCASTSD (R10)(BX*1), Y13
	VBROADCASTSD (R10)(BX*2), Y14
	VMOVUPD (R11), Y15
	VFMADD231PD Y15, Y12, Y0
	VFMADD231PD Y15, Y13, Y4
	VFMADD231PD Y15, Y14, Y8
	ADDQ R13, R10
	ADDQ R9, R11
	DECQ R12
	JNZ  m3dloop1v
	VMOVUPD Y0, (DI)
	VMOVUPD Y4, (DI)(AX*1)
	VMOVUPD Y8, (DI)(AX*2)
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $4, CX
	JMP  m3dchunk1v

m3dtail:
	CMPQ CX, $0
	JEQ  m3ddone
	VXORPD X0, X0, X0
	VXORPD X4, X4, X4
	VXORPD X8, X8, X8
	MOVQ SI, R10
	MOVQ DX, R11
	MOVQ R8, R12

m3dloop1:
	VMOVSD (R11), X15
	VMOVSD (R10), X12
	VFMADD231SD X15, X12, X0
	VMOVSD (R10)(BX*1), X13
	VFMADD231SD X15, X13, X4
	VMOVSD (R10)(BX*2), X14
	VFMADD231SD X15, X14, X8
	ADDQ R13, R10
	ADDQ R9, R11
	DECQ R12
	JNZ  m3dloop1
	VMOVSD X0, (DI)
	VMOVSD X4, (DI)(AX*1)
	VMOVSD X8, (DI)(AX*2)
	ADDQ $8, DI
	ADDQ $8, DX
	DECQ CX
	JMP  m3dtail

m3ddone:
	VZEROUPPER
	RET

// func matVec3AVX2F32(z []float32, ldz int, w []float32, dw, ldw, n int, x []float32, ldx int)
//
// For r < 3 and c < len(z): z[r·ldz+c] = Σ_{j<n} w[r·dw+j·ldw]·x[j·ldx+c],
// n ≥ 1: three rows of matVecAVX2F32 sharing the loads of x. Every element
// is the same chain of fused multiply-adds from 0 in increasing j as in
// matVecAVX2F32, so the results are the same bits. Columns go in chunks of
// 32, then 8, then one at a time.
TEXT ·matVec3AVX2F32(SB), NOSPLIT, $0-112
	MOVQ z_base+0(FP), DI
	MOVQ z_len+8(FP), CX
	MOVQ ldz+24(FP), AX
	SHLQ $2, AX
	MOVQ w_base+32(FP), SI
	MOVQ dw+56(FP), BX
	SHLQ $2, BX
	MOVQ ldw+64(FP), R13
	SHLQ $2, R13
	MOVQ n+72(FP), R8
	MOVQ x_base+80(FP), DX
	MOVQ ldx+104(FP), R9
	SHLQ $2, R9

m3fchunk:
	CMPQ CX, $32
	JLT  m3fchunk1v
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	MOVQ SI, R10
	MOVQ DX, R11
	MOVQ R8, R12

m3floop:
	VBROADCASTSS (R10), Y12
	VBROADCASTSS (R10)(BX*1), Y13
	VBROADCASTSS (R10)(BX*2), Y14
	VMOVUPS 0(R11), Y15
	VFMADD231PS Y15, Y12, Y0
	VFMADD231PS Y15, Y13, Y4
	VFMADD231PS Y15, Y14, Y8
	VMOVUPS 32(R11), Y15
	VFMADD231PS Y15, Y12, Y1
	VFMADD231PS Y15, Y13, Y5
	VFMADD231PS Y15, Y14, Y9
	VMOVUPS 64(R11), Y15
	VFMADD231PS Y15, Y12, Y2
	VFMADD231PS Y15, Y13, Y6
	VFMADD231PS Y15, Y14, Y10
	VMOVUPS 96(R11), Y15
	VFMADD231PS Y15, Y12, Y3
	VFMADD231PS Y15, Y13, Y7
	VFMADD231PS Y15, Y14, Y11
	ADDQ R13, R10
	ADDQ R9, R11
	DECQ R12
	JNZ  m3floop
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 0(DI)(AX*1)
	VMOVUPS Y5, 32(DI)(AX*1)
	VMOVUPS Y6, 64(DI)(AX*1)
	VMOVUPS Y7, 96(DI)(AX*1)
	VMOVUPS Y8, 0(DI)(AX*2)
	VMOVUPS Y9, 32(DI)(AX*2)
	VMOVUPS Y10, 64(DI)(AX*2)
	VMOVUPS Y11, 96(DI)(AX*2)
	ADDQ $128, DI
	ADDQ $128, DX
	SUBQ $32, CX
	JMP  m3fchunk

m3fchunk1v:
	CMPQ CX, $8
	JLT  m3ftail
	VXORPS Y0, Y0, Y0
	VXORPS Y4, Y4, Y4
	VXORPS Y8, Y8, Y8
	MOVQ SI, R10
	MOVQ DX, R11
	MOVQ R8, R12

m3floop1v:
	VBROADCASTSS (R10), Y12
	VBROADCASTSS (R10)(BX*1), Y13
	VBROADCASTSS (R10)(BX*2), Y14
	VMOVUPS (R11), Y15
	VFMADD231PS Y15, Y12, Y0
	VFMADD231PS Y15, Y13, Y4
	VFMADD231PS Y15, Y14, Y8
	ADDQ R13, R10
	ADDQ R9, R11
	DECQ R12
	JNZ  m3floop1v
	VMOVUPS Y0, (DI)
	VMOVUPS Y4, (DI)(AX*1)
	VMOVUPS Y8, (DI)(AX*2)
	ADDQ $32, DI
	ADDQ $32, DX
	SUBQ $8, CX
	JMP  m3fchunk1v

m3ftail:
	CMPQ CX, $0
	JEQ  m3fdone
	VXORPS X0, X0, X0
	VXORPS X4, X4, X4
	VXORPS X8, X8, X8
	MOVQ SI, R10
	MOVQ DX, R11
	MOVQ R8, R12

m3floop1:
	VMOVSS (R11), X15
	VMOVSS (R10), X12
	VFMADD231SS X15, X12, X0
	VMOVSS (R10)(BX*1), X13
	VFMADD231SS X15, X13, X4
	VMOVSS (R10)(BX*2), X14
	VFMADD231SS X15, X14, X8
	ADDQ R13, R10
	ADDQ R9, R11
	DECQ R12
	JNZ  m3floop1
	VMOVSS X0, (DI)
	VMOVSS X4, (DI)(AX*1)
	VMOVSS X8, (DI)(AX*2)
	ADDQ $4, DI
	ADDQ $4, DX
	DECQ CX
	JMP  m3ftail

m3fdone:
	VZEROUPPER
	RET
