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
