// The k = 3 tap of the inline-assembly 4 × 3 micro-kernels (conv_direct.c, conv_sample_lanes.c):
// one private macro, so both kernels schedule their loads, broadcasts and FMAs identically.
// Operands the asm statement must name: i0, i1, i2 (the 3 slots' tap (0, 0) in channel ci),
// w (the 4 packed weights of each tap, 16 bytes per tap), ws (bytes from one padded row to the next).
#ifndef CONV_DIRECT_TAPS_H
#define CONV_DIRECT_TAPS_H
// One tap (T = ky·3 + kx): 3 unaligned loads of x at row offset ROW and column DX bytes,
// 4 broadcasts of w[ci][T][r] and 12 FMAs; acc[r][j] = ymm(3r + j).
#define DK_TAP(T, ROW, DX)                                                                         \
    "vmovups " #DX "(%[i0]" ROW "), %%ymm12\n\t"                                                  \
    "vmovups " #DX "(%[i1]" ROW "), %%ymm13\n\t"                                                  \
    "vmovups " #DX "(%[i2]" ROW "), %%ymm14\n\t"                                                  \
    "vbroadcastss 16*" #T "+0(%[w]), %%ymm15\n\t"                                                 \
    "vfmadd231ps %%ymm12, %%ymm15, %%ymm0\n\t"                                                     \
    "vfmadd231ps %%ymm13, %%ymm15, %%ymm1\n\t"                                                     \
    "vfmadd231ps %%ymm14, %%ymm15, %%ymm2\n\t"                                                     \
    "vbroadcastss 16*" #T "+4(%[w]), %%ymm15\n\t"                                                 \
    "vfmadd231ps %%ymm12, %%ymm15, %%ymm3\n\t"                                                     \
    "vfmadd231ps %%ymm13, %%ymm15, %%ymm4\n\t"                                                     \
    "vfmadd231ps %%ymm14, %%ymm15, %%ymm5\n\t"                                                     \
    "vbroadcastss 16*" #T "+8(%[w]), %%ymm15\n\t"                                                 \
    "vfmadd231ps %%ymm12, %%ymm15, %%ymm6\n\t"                                                     \
    "vfmadd231ps %%ymm13, %%ymm15, %%ymm7\n\t"                                                     \
    "vfmadd231ps %%ymm14, %%ymm15, %%ymm8\n\t"                                                     \
    "vbroadcastss 16*" #T "+12(%[w]), %%ymm15\n\t"                                                \
    "vfmadd231ps %%ymm12, %%ymm15, %%ymm9\n\t"                                                     \
    "vfmadd231ps %%ymm13, %%ymm15, %%ymm10\n\t"                                                    \
    "vfmadd231ps %%ymm14, %%ymm15, %%ymm11\n\t"
#define DK_ROW0 ""
#define DK_ROW1 ",%[ws],1"
#define DK_ROW2 ",%[ws],2"
// Zeroes the 12 accumulators ymm0–11.
#define DK_ZERO_ACC                                                                                \
    "vxorps %%ymm0, %%ymm0, %%ymm0\n\t" "vxorps %%ymm1, %%ymm1, %%ymm1\n\t"                     \
    "vxorps %%ymm2, %%ymm2, %%ymm2\n\t" "vxorps %%ymm3, %%ymm3, %%ymm3\n\t"                     \
    "vxorps %%ymm4, %%ymm4, %%ymm4\n\t" "vxorps %%ymm5, %%ymm5, %%ymm5\n\t"                     \
    "vxorps %%ymm6, %%ymm6, %%ymm6\n\t" "vxorps %%ymm7, %%ymm7, %%ymm7\n\t"                     \
    "vxorps %%ymm8, %%ymm8, %%ymm8\n\t" "vxorps %%ymm9, %%ymm9, %%ymm9\n\t"                     \
    "vxorps %%ymm10, %%ymm10, %%ymm10\n\t" "vxorps %%ymm11, %%ymm11, %%ymm11\n\t"
// The loop over the n input channels: 9 taps, column kx at kx·DX bytes (DX1 = DX, DX2 = 2·DX),
// then the next channel (cs bytes further) and the next 36 weights. Operands: n (count), cs.
#define DK_CI_LOOP(DX1, DX2)                                                                       \
    "1:\n\t"                                                                                      \
    DK_TAP(0, DK_ROW0, 0) DK_TAP(1, DK_ROW0, DX1) DK_TAP(2, DK_ROW0, DX2)                          \
    DK_TAP(3, DK_ROW1, 0) DK_TAP(4, DK_ROW1, DX1) DK_TAP(5, DK_ROW1, DX2)                          \
    DK_TAP(6, DK_ROW2, 0) DK_TAP(7, DK_ROW2, DX1) DK_TAP(8, DK_ROW2, DX2)                          \
    "addq $144, %[w]\n\t"                                                                          \
    "addq %[cs], %[i0]\n\t"                                                                       \
    "addq %[cs], %[i1]\n\t"                                                                       \
    "addq %[cs], %[i2]\n\t"                                                                       \
    "decq %[n]\n\t"                                                                               \
    "jnz 1b\n\t"
#endif
