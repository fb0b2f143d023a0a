/* conv2d kernels: x is N x C x H x W, w is K x Cg x R x S (Cg = C / groups,
 * Kg = K / groups), y is N x K x P x Q. Every kernel takes the geometry as one
 * int16 laid out by TC_CONV_GEOMETRY (kernels/iface.h) and every tensor with its
 * element offset (views), added to the pointer on entry; flags are EPI_BIAS and
 * EPI_RELU. Indices are int where the host proved they fit (tc_conv_setup and
 * cpu_layout in src/ops/conv2d.c), size_t where they may not. */

/* The geometry fields as constants GC, GH, ... GDW, from the int16 `d`. */
#define CONV_FIELD(name, i) const int G##name = d.s##i;
#define CONV_GEOMETRY TC_CONV_GEOMETRY(CONV_FIELD)

/* Input value at output pixel (p, q) and tap (r, s) of channel plane xc; 0 in the padding. */
inline float tap(__global const float *xc, const int16 d, int p, int q, int r, int s)
{
    CONV_GEOMETRY
    const int ih = p * GSH - GPH + r * GDH, iw = q * GSW - GPW + s * GDW;
    return (ih >= 0 && ih < GH && iw >= 0 && iw < GW) ? xc[(size_t)ih * GW + iw] : 0.0f;
}

/* ---- im2col: one image (x_off points at it) into col[(c*R + r)*S + s][p*Q + q] */
__kernel void im2col(const int16 d, __global const float *x, const ulong x_off, __global float *col)
{
    CONV_GEOMETRY
    x += x_off;
    const int pix = get_global_id(0), row = get_global_id(1);
    const int pq = GP * GQ;
    if (pix >= pq) return;
    const int c = row / (GR * GS), rs = row % (GR * GS);
    col[(size_t)row * pq + pix] = tap(x + (size_t)c * GH * GW, d, pix / GQ, pix % GQ, rs / GS, rs % GS);
}

/* ---- CPU-shaped direct convolution ------------------------------------------
 * The input is first copied into zero-padded planes (no bounds checks in the
 * inner loop), the weights into blocks of KB output channels. A work-item owns
 * KB output channels x NV float16 vectors of output pixels: per (c, r, s) it
 * loads NV input vectors and KB weights and does KB x NV vector FMAs, all in
 * registers (PoCL vectorizes only explicit vector types well; the loops over the
 * compile-time KB, NV, KR and KS unroll fully so the accumulators stay in registers). */
#ifndef KB
#define KB 8
#endif
#ifndef NV
#define NV 3
#endif
#ifndef KR /* the kernel extent R x S: fixed at build time (taps unrolled) up to 64 taps */
#define KR GR
#define KS GS
#endif

/* Padded plane layout: a padded plane is H + 2 pad_h rows of Wp = stride_w * wo
 * columns (plus zero tail rows); column x goes to phase x % stride_w at column
 * x / stride_w of a rows x wo phase plane. With stride_w phases, the inputs of 16
 * consecutive outputs are 16 consecutive floats for every stride and tap. */
__kernel void pad_planes(const int16 d, __global const float *x, const ulong x_off, __global float *xp, const int wo,
                         const int rows)
{
    CONV_GEOMETRY
    x += x_off;
    const int nc = get_global_id(0);
    __global const float *src = x + (size_t)nc * GH * GW;
    __global float *dst = xp + (size_t)nc * GSW * rows * wo;
    for (int ph = 0; ph < GSW; ph++) {
        /* columns i0 <= i < i1 of this phase hold input columns i * stride_w + ph - pad_w;
         * `last` is the largest i * stride_w that does (negative: none) */
        const int last = GW - 1 + GPW - ph;
        const int i0 = min((max(GPW - ph, 0) + GSW - 1) / GSW, wo);
        const int i1 = max(min(last >= 0 ? last / GSW + 1 : 0, wo), i0);
        for (int iy = 0; iy < rows; iy++, dst += wo) {
            const int ih = iy - GPH;
            if (ih < 0 || ih >= GH) {
                for (int i = 0; i < wo; i++) dst[i] = 0.0f;
                continue;
            }
            __global const float *s = src + (size_t)ih * GW + ph - GPW;
            for (int i = 0; i < i0; i++) dst[i] = 0.0f;
            for (int i = i0; i < i1; i++) dst[i] = s[i * GSW];
            for (int i = i1; i < wo; i++) dst[i] = 0.0f;
        }
    }
}

/* w into wp[g][kb][c][r][s][KB], channels past Kg zeroed; one weight row (output
 * channel k of group g) per work-item, gws = (blocks * KB, groups). */
__kernel void pack_weights(const int16 d, __global const float *w, const ulong w_off, __global float *wp)
{
    CONV_GEOMETRY
    w += w_off;
    const int k = get_global_id(0), g = get_global_id(1), n = GCG * GR * GS;
    __global float *dst = wp + ((size_t)g * get_global_size(0) + k - k % KB) * n + k % KB;
    __global const float *src = w + ((size_t)g * GKG + k) * n;
    for (int i = 0; i < n; i++) dst[(size_t)i * KB] = k < GKG ? src[i] : 0.0f;
}

/* Output vectors j of 16 lanes. Flat mode (qv == 0, stride_h 1): lanes are the
 * positions i = p * wo + q of output rows padded to wo, so one vector may span
 * rows and lanes with q >= Q are dropped. Row mode (qv > 0): vector j is output
 * row j / qv, columns 16 * (j % qv) + lane. gws = (vector groups, blocks, N * groups). */
__kernel void conv_cpu(const int16 d, __global const float *xp, __global const float *wp,
                       __global const float *bias, const ulong b_off, __global float *y, const ulong y_off,
                       const int wo, const int rows, const int qv, const int nvec, const int flags)
{
    CONV_GEOMETRY
    bias += b_off;
    y += y_off;
    const int t = get_global_id(0), kb = get_global_id(1), ng = get_global_id(2);
    if (t * NV >= nvec) return;
    const int groups = GC / GCG, n = ng / groups, g = ng % groups;
    int base[NV];
#pragma unroll
    for (int v = 0; v < NV; v++) {
        const int j = min(t * NV + v, nvec - 1);
        base[v] = qv ? (j / qv) * GSH * wo + (j % qv) * 16 : j * 16;
    }
    float16 acc[KB][NV];
#pragma unroll
    for (int k = 0; k < KB; k++)
#pragma unroll
        for (int v = 0; v < NV; v++) acc[k][v] = 0.0f;
    const int plane = GSW * rows * wo;
    __global const float *xc = xp + (size_t)(n * GC + g * GCG) * plane;
    __global const float *wk = wp + (size_t)(g * get_global_size(1) + kb) * GCG * KR * KS * KB;
    for (int c = 0; c < GCG; c++, xc += plane)
#pragma unroll
        for (int r = 0; r < KR; r++)
#pragma unroll
            for (int s = 0; s < KS; s++, wk += KB) {
                __global const float *xr = xc + ((s * GDW) % GSW * rows + r * GDH) * wo + s * GDW / GSW;
                float16 xv[NV];
#pragma unroll
                for (int v = 0; v < NV; v++) xv[v] = vload16(0, xr + base[v]);
#pragma unroll
                for (int k = 0; k < KB; k++) {
                    const float16 wv = (float16)(wk[k]);
#pragma unroll
                    for (int v = 0; v < NV; v++) acc[k][v] = fma(xv[v], wv, acc[k][v]);
                }
            }
#pragma unroll
    for (int k = 0; k < KB; k++) {
        const int ko = kb * KB + k;
        if (ko >= GKG) break;
        const int kk = g * GKG + ko;
        __global float *yk = y + (size_t)(n * GK + kk) * GP * GQ;
#pragma unroll
        for (int v = 0; v < NV; v++) {
            const int j = t * NV + v;
            if (j >= nvec) break;
            float16 o = acc[k][v];
            if (flags & EPI_BIAS) o += bias[kk];
            if (flags & EPI_RELU) o = fmax(o, 0.0f);
            const int p0 = qv ? j / qv : (j * 16) / wo, q0 = qv ? (j % qv) * 16 : (j * 16) % wo;
            if (q0 + 16 <= GQ) {
                vstore16(o, 0, yk + (size_t)p0 * GQ + q0);
            } else {
                float ot[16];
                vstore16(o, 0, ot);
                for (int l = 0, p = p0, q = q0; l < 16; l++) {
                    if (p < GP && q < GQ) yk[(size_t)p * GQ + q] = ot[l];
                    if (++q == wo && !qv) q = 0, p++;
                }
            }
        }
    }
}

/* ---- GPU-shaped implicit GEMM -------------------------------------------------
 * Per image and group: y[Kg x PQ] = w[Kg x Cg*R*S] * im2col(x), with im2col
 * gathered on the fly into local tiles. TS x TS outputs per work-group, WPT x WPT
 * per work-item, as in matmul's gemm_gpu. */
__kernel void conv_gpu(const int16 d, __global const float *x, const ulong x_off, __global const float *w,
                       const ulong w_off, __global const float *bias, const ulong b_off, __global float *y,
                       const ulong y_off, const int flags)
{
    CONV_GEOMETRY
    bias += b_off;
    y += y_off;
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int col0 = get_group_id(0) * TS, row0 = get_group_id(1) * TS;
    const int groups = GC / GCG, n = get_global_id(2) / groups, g = get_global_id(2) % groups;
    const int pq = GP * GQ, rs = GR * GS, kd = GCG * rs;
    x += x_off + (size_t)(n * GC + g * GCG) * GH * GW;
    w += w_off + (size_t)g * GKG * kd;
    __local float As[TSK][TS + 1];
    __local float Bs[TSK][TS + 1];
    float acc[WPT][WPT];
    for (int i = 0; i < WPT; i++)
        for (int j = 0; j < WPT; j++) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < kd; k0 += TSK) {
        for (int l = ty * RTS + tx; l < TS * TSK; l += RTS * RTS) {
            const int ka = l % TSK, ra = l / TSK, gr = row0 + ra, gk = k0 + ka;
            As[ka][ra] = (gr < GKG && gk < kd) ? w[(size_t)gr * kd + gk] : 0.0f;
            const int cb = l % TS, kb = l / TS, pix = col0 + cb, gkb = k0 + kb;
            float v = 0.0f;
            if (pix < pq && gkb < kd) {
                const int c = gkb / rs, t = gkb % rs;
                v = tap(x + (size_t)c * GH * GW, d, pix / GQ, pix % GQ, t / GS, t % GS);
            }
            Bs[kb][cb] = v;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        TILE_FMA(As, Bs, acc, tx, ty)
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < WPT; i++) {
        const int m = row0 + ty + i * RTS;
        if (m >= GKG) continue;
        const int k = g * GKG + m;
        for (int j = 0; j < WPT; j++) {
            const int pix = col0 + tx + j * RTS;
            if (pix >= pq) continue;
            float v = acc[i][j];
            if (flags & EPI_BIAS) v += bias[k];
            if (flags & EPI_RELU) v = fmax(v, 0.0f);
            y[(size_t)(n * GK + k) * pq + pix] = v;
        }
    }
}

/* bias and ReLU over y after a GEMM or CLBlast's convgemm: gws = (P*Q rounded up, K, N). */
__kernel void conv_epilogue(const int16 d, __global float *y, const ulong y_off, __global const float *bias,
                            const ulong b_off, const int flags)
{
    CONV_GEOMETRY
    bias += b_off;
    const int pix = get_global_id(0), k = get_global_id(1);
    if (pix >= GP * GQ) return;
    __global float *yk = y + y_off + (get_global_id(2) * GK + k) * (size_t)(GP * GQ);
    float v = yk[pix];
    if (flags & EPI_BIAS) v += bias[k];
    if (flags & EPI_RELU) v = fmax(v, 0.0f);
    yk[pix] = v;
}
