/* Attention: out = softmax(q k^T, masked) v per (sequence, head), the softmax online
 * (a running maximum m and sum l per query; when m grows, what was accumulated is
 * scaled by exp(m_old - m_new)), so no kernel holds a query's row of scores. q is
 * scaled on load. Every kernel takes the geometry as one int16 laid out by
 * TC_ATTN_GEOMETRY (kernels/iface.h), an optional int2 per sequence (position of
 * its first query, valid keys) and every tensor with its element offset. Built with
 * -DHEAD_DIM (and each kernel's tile sizes). Query i of sequence b sees keys
 * j < keys(b) and, when causal, j <= pos(b) + i; a query that sees none gets zeros.
 *   attn_cpu:   a work-item per 16 queries, one per float16 lane; blocks of 16 keys.
 *   attn_gpu:   a work-group of WQ queries, one per work-item; TK-key tiles of k and v
 *               in local memory.
 *   attn_dec:   a work-group of WD per query and split of the keys; scores of TD keys
 *               at a time in local memory, work-items along keys then along head_dim.
 *               With one split it writes out; with more, partial records (m, l, o[])
 *               that attn_merge combines (flash-decoding).
 *   attn_dec1:  the same per work-item, head_dim in registers as vectors (CPUs). */

#define ATTN_FIELD(name, i) const int A##name = g.s##i;
#define ATTN_GEOMETRY TC_ATTN_GEOMETRY(ATTN_FIELD)
/* the attention kernels' q, k, v and out arrive with their element offsets (views) */
#define ATTN_OFFSETS \
    q += qo;         \
    k += ko;         \
    v += vo;         \
    out += oo;

/* Keys and values are f32, or s8 when built with -DKV_S8: then element e of a row
 * (channel e % HEAD_DIM) is (x - zero_point) * scale with the channel's parameters
 * from kvq, which holds HEAD_DIM scales and HEAD_DIM zero points for k (offset 0),
 * then the same for v (offset 2 * HEAD_DIM). */
#ifdef KV_S8
#define KVT char
#define KV(p, e, o) (((float)(p)[e] - kvq[(o) + HEAD_DIM + (e) % HEAD_DIM]) * kvq[(o) + (e) % HEAD_DIM])
#else
#define KVT float
#define KV(p, e, o) ((p)[e])
#endif

/* (position of the first query, valid keys) of sequence b */
inline int2 attn_seq(__global const int2 *seq, const int16 g, int b)
{
    ATTN_GEOMETRY
    return seq ? seq[b] : (int2)(AQPOS, ALK);
}

/* Keys query position `pos` sees (a count from key 0). */
inline int attn_keys(const int16 g, int2 sq, int pos)
{
    ATTN_GEOMETRY
    return max(ACAUSAL ? min(sq.y, pos + 1) : sq.y, 0);
}

/* k (or v) of query head h of sequence b */
inline size_t attn_kv_at(const int16 g, int b, int h)
{
    ATTN_GEOMETRY
    return ((size_t)b * AHKV + h / (AH / AHKV)) * ALK * HEAD_DIM;
}

inline size_t attn_q_at(const int16 g, int b, int h, int i)
{
    ATTN_GEOMETRY
    return (size_t)b * AQSB + (size_t)h * AQSH + (size_t)i * AQSL;
}

/* ---- CPU-shaped: VQ queries per work-item across float16 lanes ---------------
 * q^T (head_dim float16s, lane i = query i) and the output accumulators stay in
 * private memory (L1); each block of VK keys and values is copied to private memory
 * (zeros past the last visible key), then every step is a float16 FMA with one
 * broadcast operand: s[jj] += qT[d] * k[jj][d], o[d] += p[jj] * v[jj][d]. */
#define VQ 16
#define VK 16

__kernel void attn_cpu(const int16 g, __global const int2 *seq, __global const float *q, const ulong qo,
                       __global const KVT *k, const ulong ko, __global const KVT *v, const ulong vo,
                       __global float *out, const ulong oo, const float scale,
    __global const float *kvq)
{
    ATTN_GEOMETRY
    ATTN_OFFSETS
    const int i0 = get_global_id(0) * VQ, h = get_global_id(1), b = get_global_id(2);
    if (i0 >= ALQ) return;
    const int2 sq = attn_seq(seq, g, b);
    const int nq = min(VQ, ALQ - i0);
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const int16 visible = ACAUSAL ? min((int16)(sq.y), (int16)(sq.x + i0 + 1) + lane) : (int16)(sq.y);
    const int kend = attn_keys(g, sq, sq.x + i0 + nq - 1);
    __global const KVT *kh = k + attn_kv_at(g, b, h), *vh = v + attn_kv_at(g, b, h);
    __global const float *qb = q + attn_q_at(g, b, h, i0);
    float qt[HEAD_DIM * VQ], ot[HEAD_DIM * VQ], kb[VK * HEAD_DIM], vb[VK * HEAD_DIM];
    for (int e = 0; e < HEAD_DIM * VQ; e++) qt[e] = ot[e] = 0.0f;
    for (int i = 0; i < nq; i++)
        for (int d = 0; d < HEAD_DIM; d++) qt[d * VQ + i] = qb[(size_t)i * AQSL + d] * scale;
    float16 m = (float16)(-INFINITY), l = (float16)(0.0f);
    for (int j0 = 0; j0 < kend; j0 += VK) {
        const int n = min(VK, kend - j0) * HEAD_DIM;
        __global const KVT *kj = kh + (size_t)j0 * HEAD_DIM, *vj = vh + (size_t)j0 * HEAD_DIM;
        for (int e = 0; e < n; e++) kb[e] = KV(kj, e, 0), vb[e] = KV(vj, e, 2 * HEAD_DIM);
        for (int e = n; e < VK * HEAD_DIM; e++) kb[e] = vb[e] = 0.0f;
        float16 s[VK];
        for (int jj = 0; jj < VK; jj++) s[jj] = (float16)(0.0f);
        for (int d = 0; d < HEAD_DIM; d++) {
            const float16 qd = vload16(d, qt);
#pragma unroll
            for (int jj = 0; jj < VK; jj++) s[jj] = fma(qd, (float16)(kb[jj * HEAD_DIM + d]), s[jj]);
        }
        float16 mx = m;
#pragma unroll
        for (int jj = 0; jj < VK; jj++) {
            s[jj] = select(s[jj], (float16)(-INFINITY), (int16)(j0 + jj) >= visible);
            mx = fmax(mx, s[jj]);
        }
        /* a lane that has seen no key keeps m = -inf: subtract 0 there, not -inf */
        const float16 mu = select(mx, (float16)(0.0f), mx == (float16)(-INFINITY));
        const float16 alpha = exp(m - mu);
        float16 ps = (float16)(0.0f);
#pragma unroll
        for (int jj = 0; jj < VK; jj++) {
            s[jj] = exp(s[jj] - mu);
            ps += s[jj];
        }
        l = fma(l, alpha, ps);
        m = mx;
        for (int d = 0; d < HEAD_DIM; d++) {
            float16 acc = vload16(d, ot) * alpha;
#pragma unroll
            for (int jj = 0; jj < VK; jj++) acc = fma(s[jj], (float16)(vb[jj * HEAD_DIM + d]), acc);
            vstore16(acc, d, ot);
        }
    }
    float inv[VQ];
    vstore16(select(1.0f / l, (float16)(0.0f), l == (float16)(0.0f)), 0, inv);
    __global float *ob = out + attn_q_at(g, b, h, i0);
    for (int i = 0; i < nq; i++)
        for (int d = 0; d < HEAD_DIM; d++) ob[(size_t)i * AQSL + d] = ot[d * VQ + i] * inv[i];
}

/* ---- GPU-shaped: WQ queries per work-group, TK-key tiles in local memory ------ */
#ifndef WQ
#define WQ 64
#endif
#ifndef TK
#define TK 32
#endif

__kernel __attribute__((reqd_work_group_size(WQ, 1, 1))) void attn_gpu(
    const int16 g, __global const int2 *seq, __global const float *q, const ulong qo, __global const KVT *k,
    const ulong ko, __global const KVT *v, const ulong vo, __global float *out, const ulong oo, const float scale,
    __global const float *kvq)
{
    ATTN_GEOMETRY
    ATTN_OFFSETS
    __local float ks[TK * HEAD_DIM], vs[TK * HEAD_DIM];
    const int i0 = get_group_id(0) * WQ, lid = get_local_id(0), i = i0 + lid, h = get_group_id(1), b = get_group_id(2);
    const int2 sq = attn_seq(seq, g, b);
    const int qi = min(i, ALQ - 1); /* work-items past the last query repeat it and write nothing */
    const int mine = attn_keys(g, sq, sq.x + qi);
    const int kend = attn_keys(g, sq, sq.x + min(i0 + WQ, ALQ) - 1);
    __global const KVT *kh = k + attn_kv_at(g, b, h), *vh = v + attn_kv_at(g, b, h);
    __global const float *qr = q + attn_q_at(g, b, h, qi);
    float qp[HEAD_DIM], o[HEAD_DIM], sc[TK];
    for (int d = 0; d < HEAD_DIM; d++) qp[d] = qr[d] * scale, o[d] = 0.0f;
    float m = -INFINITY, l = 0.0f;
    for (int j0 = 0; j0 < kend; j0 += TK) {
        const int nk = min(TK, kend - j0) * HEAD_DIM;
        barrier(CLK_LOCAL_MEM_FENCE);
        __global const KVT *kt = kh + (size_t)j0 * HEAD_DIM, *vt = vh + (size_t)j0 * HEAD_DIM;
        for (int e = lid; e < nk; e += WQ) {
            ks[e] = KV(kt, e, 0);
            vs[e] = KV(vt, e, 2 * HEAD_DIM);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        const int n = min(TK, mine - j0);
        if (n <= 0) continue;
        float mt = m;
        for (int jj = 0; jj < n; jj++) {
            float s = 0.0f;
            for (int d = 0; d < HEAD_DIM; d++) s = fma(qp[d], ks[jj * HEAD_DIM + d], s);
            sc[jj] = s;
            mt = fmax(mt, s);
        }
        const float alpha = exp(m - mt);
        l *= alpha;
        for (int d = 0; d < HEAD_DIM; d++) o[d] *= alpha;
        m = mt;
        for (int jj = 0; jj < n; jj++) {
            const float p = exp(sc[jj] - m);
            l += p;
            for (int d = 0; d < HEAD_DIM; d++) o[d] = fma(p, vs[jj * HEAD_DIM + d], o[d]);
        }
    }
    if (i >= ALQ) return;
    __global float *orow = out + attn_q_at(g, b, h, i);
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    for (int d = 0; d < HEAD_DIM; d++) orow[d] = o[d] * inv;
}

/* ---- decode: a work-group per (query, split of the keys) ----------------------
 * Grid (WD * NSPLIT, LQ, B * H). part (NSPLIT > 1) holds per query and split the
 * record m, l, o[HEAD_DIM] (o not yet divided by l). */
#ifndef WD
#define WD 64
#endif
#ifndef TD
#define TD 256
#endif
#define DPI ((HEAD_DIM + WD - 1) / WD) /* head_dim elements per work-item */
#define REC (HEAD_DIM + 2)

__kernel __attribute__((reqd_work_group_size(WD, 1, 1))) void attn_dec(
    const int16 g, __global const int2 *seq, __global const float *q, const ulong qo, __global const KVT *k,
    const ulong ko, __global const KVT *v, const ulong vo, __global float *out, const ulong oo,
    __global float *part, const float scale,
    __global const float *kvq)
{
    ATTN_GEOMETRY
    ATTN_OFFSETS
    __local float qs[HEAD_DIM], sc[TD], red[WD];
    const int lid = get_local_id(0), split = get_group_id(0), i = get_global_id(1), bh = get_global_id(2);
    const int b = bh / AH, h = bh % AH;
    const int2 sq = attn_seq(seq, g, b);
    const int kend = attn_keys(g, sq, sq.x + i);
    const int k0 = split * ACHUNK, k1 = min(k0 + ACHUNK, kend);
    __global const KVT *kh = k + attn_kv_at(g, b, h), *vh = v + attn_kv_at(g, b, h);
    __global const float *qr = q + attn_q_at(g, b, h, i);
    for (int d = lid; d < HEAD_DIM; d += WD) qs[d] = qr[d] * scale;
    barrier(CLK_LOCAL_MEM_FENCE);
    float o[DPI];
    for (int t = 0; t < DPI; t++) o[t] = 0.0f;
    float m = -INFINITY, l = 0.0f;
    for (int j0 = k0; j0 < k1; j0 += TD) {
        const int n = min(TD, k1 - j0);
        float mloc = -INFINITY;
        for (int jj = lid; jj < n; jj += WD) {
            __global const KVT *kr = kh + (size_t)(j0 + jj) * HEAD_DIM;
            float s = 0.0f;
            for (int d = 0; d < HEAD_DIM; d++) s = fma(qs[d], KV(kr, d, 0), s);
            sc[jj] = s;
            mloc = fmax(mloc, s);
        }
        const float mt = fmax(m, group_max(red, mloc));
        const float alpha = exp(m - mt);
        float ploc = 0.0f;
        for (int jj = lid; jj < n; jj += WD) {
            const float p = exp(sc[jj] - mt);
            sc[jj] = p;
            ploc += p;
        }
        l = l * alpha + group_sum(red, ploc); /* its barriers publish sc */
        m = mt;
        for (int t = 0; t < DPI; t++) {
            const int d = lid + t * WD;
            if (d >= HEAD_DIM) break;
            float acc = o[t] * alpha;
            __global const KVT *vc = vh + (size_t)j0 * HEAD_DIM;
            for (int jj = 0; jj < n; jj++) acc = fma(sc[jj], KV(vc, jj * HEAD_DIM + d, 2 * HEAD_DIM), acc);
            o[t] = acc;
        }
        barrier(CLK_LOCAL_MEM_FENCE); /* sc is rewritten next */
    }
    if (ANSPLIT == 1) {
        __global float *orow = out + attn_q_at(g, b, h, i);
        const float inv = l > 0.0f ? 1.0f / l : 0.0f;
        for (int t = 0; t < DPI; t++)
            if (lid + t * WD < HEAD_DIM) orow[lid + t * WD] = o[t] * inv;
        return;
    }
    __global float *rec = part + ((size_t)(bh * ALQ + i) * ANSPLIT + split) * REC;
    if (lid == 0) rec[0] = m, rec[1] = l;
    for (int t = 0; t < DPI; t++)
        if (lid + t * WD < HEAD_DIM) rec[2 + lid + t * WD] = o[t];
}

/* ---- decode, CPU-shaped: a work-item per (query, split), head_dim in vectors ----
 * Grid (NSPLIT, LQ, B * H), no barriers; the same outputs as attn_dec. q and the
 * output stay in DV-wide registers; scores of 16 keys at a time go through one
 * float16 exp. */
#if HEAD_DIM % 16 == 0
#define DV 16
#define VEC float16
#define VLOAD vload16
#define VSTORE vstore16
#define VCVT convert_float16
#define HSUM(x) attn_hsum4((x).s0123 + (x).s4567 + (x).s89ab + (x).scdef)
#elif HEAD_DIM % 8 == 0
#define DV 8
#define VEC float8
#define VLOAD vload8
#define VSTORE vstore8
#define VCVT convert_float8
#define HSUM(x) attn_hsum4((x).s0123 + (x).s4567)
#elif HEAD_DIM % 4 == 0
#define DV 4
#define VEC float4
#define VLOAD vload4
#define VSTORE vstore4
#define VCVT convert_float4
#define HSUM(x) attn_hsum4(x)
#else
#define DV 1
#define VEC float
#define VLOAD(i, p) ((p)[i])
#define VSTORE(x, i, p) ((p)[i] = (x))
#define VCVT(x) ((float)(x))
#define HSUM(x) (x)
#endif
#define NV (HEAD_DIM / DV)
/* s8 keys and values are only converted in the loops: k's scales are folded into q
 * and its zero points into one offset per query (sum_d q[d] scale[d] zp[d]); v's
 * parameters are applied once to the sums, o = scale * (sum_j p_j v_j - zp sum_j p_j) */
#ifdef KV_S8
#define KV_LOAD(t, p) VCVT(VLOAD(t, p))
#else
#define KV_LOAD(t, p) VLOAD(t, p)
#endif

inline float attn_hsum4(float4 x) { return (x.x + x.y) + (x.z + x.w); }

__kernel void attn_dec1(const int16 g, __global const int2 *seq, __global const float *q, const ulong qo,
                        __global const KVT *k, const ulong ko, __global const KVT *v, const ulong vo,
                        __global float *out, const ulong oo, __global float *part, const float scale,
    __global const float *kvq)
{
    ATTN_GEOMETRY
    ATTN_OFFSETS
    const int split = get_global_id(0), i = get_global_id(1), bh = get_global_id(2);
    const int b = bh / AH, h = bh % AH;
    const int2 sq = attn_seq(seq, g, b);
    const int k0 = split * ACHUNK, k1 = min(k0 + ACHUNK, attn_keys(g, sq, sq.x + i));
    __global const KVT *kh = k + attn_kv_at(g, b, h), *vh = v + attn_kv_at(g, b, h);
    __global const float *qr = q + attn_q_at(g, b, h, i);
    VEC qv[NV], ov[NV];
    float qz = 0.0f;
    for (int t = 0; t < NV; t++) qv[t] = VLOAD(t, qr) * scale, ov[t] = (VEC)(0.0f);
#ifdef KV_S8
    for (int t = 0; t < NV; t++) {
        qv[t] *= VLOAD(t, kvq);
        qz += HSUM(qv[t] * VLOAD(t, kvq + HEAD_DIM));
    }
#endif
    float m = -INFINITY, l = 0.0f, sc[16];
    for (int j0 = k0; j0 < k1; j0 += 16) {
        const int n = min(16, k1 - j0);
        for (int jj = 0; jj < 16; jj++) {
            __global const KVT *kr = kh + (size_t)(j0 + min(jj, n - 1)) * HEAD_DIM;
            VEC acc = qv[0] * KV_LOAD(0, kr);
            for (int t = 1; t < NV; t++) acc = fma(qv[t], KV_LOAD(t, kr), acc);
            sc[jj] = jj < n ? HSUM(acc) - qz : -INFINITY;
        }
        const float16 s = vload16(0, sc);
        const float mt = fmax(m, fmax(fmax(fmax(s.s0, s.s1), fmax(s.s2, s.s3)), fmax(fmax(s.s4, s.s5), fmax(s.s6, s.s7))));
        const float mx = fmax(mt, fmax(fmax(fmax(s.s8, s.s9), fmax(s.sa, s.sb)), fmax(fmax(s.sc, s.sd), fmax(s.se, s.sf))));
        const float alpha = exp(m - mx);
        const float16 p = exp(s - mx);
        vstore16(p, 0, sc);
        l = l * alpha + attn_hsum4(p.s0123 + p.s4567 + p.s89ab + p.scdef);
        m = mx;
        for (int t = 0; t < NV; t++) ov[t] *= alpha;
        for (int jj = 0; jj < n; jj++) {
            __global const KVT *vr = vh + (size_t)(j0 + jj) * HEAD_DIM;
            for (int t = 0; t < NV; t++) ov[t] = fma((VEC)(sc[jj]), KV_LOAD(t, vr), ov[t]);
        }
    }
#ifdef KV_S8
    for (int t = 0; t < NV; t++) ov[t] = (ov[t] - l * VLOAD(t, kvq + 3 * HEAD_DIM)) * VLOAD(t, kvq + 2 * HEAD_DIM);
#endif
    if (ANSPLIT == 1) {
        const float inv = l > 0.0f ? 1.0f / l : 0.0f;
        __global float *orow = out + attn_q_at(g, b, h, i);
        for (int t = 0; t < NV; t++) VSTORE(ov[t] * inv, t, orow);
        return;
    }
    __global float *rec = part + ((size_t)(bh * ALQ + i) * ANSPLIT + split) * REC;
    rec[0] = m, rec[1] = l;
    for (int t = 0; t < NV; t++) VSTORE(ov[t], t, rec + 2);
}

/* Combines a query's NSPLIT records: o = sum_s exp(m_s - M) o_s / sum_s exp(m_s - M) l_s,
 * M the largest m_s. Grid (HEAD_DIM, LQ, B * H). */
__kernel void attn_merge(const int16 g, __global const float *part, __global float *out, const ulong oo)
{
    ATTN_GEOMETRY
    out += oo;
    const int d = get_global_id(0), i = get_global_id(1), bh = get_global_id(2);
    if (d >= HEAD_DIM) return;
    __global const float *rec = part + (size_t)(bh * ALQ + i) * ANSPLIT * REC;
    float mx = -INFINITY;
    for (int s = 0; s < ANSPLIT; s++) mx = fmax(mx, rec[s * REC]);
    float l = 0.0f, acc = 0.0f;
    if (mx > -INFINITY)
        for (int s = 0; s < ANSPLIT; s++) {
            const float w = exp(rec[s * REC] - mx);
            l = fma(w, rec[s * REC + 1], l);
            acc = fma(w, rec[s * REC + 2 + d], acc);
        }
    out[attn_q_at(g, bh / AH, bh % AH, i) + d] = l > 0.0f ? acc / l : 0.0f;
}

/* ---- KV cache: the new tokens' keys and values written in place --------------
 * kc and vc are [B, HKV, CAP, HEAD_DIM] (f32, or s8 built with KV_S8); k and v [B, HKV, N, HEAD_DIM], or [B, N, HKV,
 * HEAD_DIM] with BLHD; sequence b writes its first `count` tokens from position
 * `start`: seq[b] = (start, count), or (START, COUNT) for every sequence. `a` holds
 * B, HKV, CAP, N, BLHD, START, COUNT. Grid (HEAD_DIM, N, B * HKV). */

/* This work-item's element: its source and destination indices; 0 when it has none. */
inline int kv_append_at(const int8 a, __global const int2 *seq, size_t *src, size_t *dst)
{
    const int d = get_global_id(0), i = get_global_id(1), bh = get_global_id(2);
    const int b = bh / a.s1, h = bh % a.s1;
    const int2 sc = seq ? seq[b] : (int2)(a.s5, a.s6);
    if (d >= HEAD_DIM || i >= sc.y) return 0;
    *src = (a.s4 ? ((size_t)b * a.s3 + i) * a.s1 + h : (size_t)bh * a.s3 + i) * HEAD_DIM + d;
    *dst = ((size_t)bh * a.s2 + sc.x + i) * HEAD_DIM + d;
    return 1;
}

__kernel void kv_append(const int8 a, __global const int2 *seq, __global const KVT *k, const ulong ko,
                        __global const KVT *v, const ulong vo, __global KVT *kc, const ulong kco,
                        __global KVT *vc, const ulong vco)
{
    size_t src, dst;
    if (!kv_append_at(a, seq, &src, &dst)) return;
    kc[kco + dst] = k[ko + src];
    vc[vco + dst] = v[vo + src];
}

#if defined(KV_S8) && defined(QMIN)
/* The same from f32 keys and values into the s8 cache, quantized on the way as
 * tc_quantize does (QUANT, kernels/common.clh: the same bits): kq holds, per
 * head_dim channel, 1 / scale (rounded to float) for k, then k's zero points, then
 * the same two for v. */
__kernel void kv_append_q(const int8 a, __global const int2 *seq, __global const float *k, const ulong ko,
                          __global const float *v, const ulong vo, __global char *kc, const ulong kco,
                          __global char *vc, const ulong vco, __global const float *kq)
{
    size_t src, dst;
    if (!kv_append_at(a, seq, &src, &dst)) return;
    const int d = get_global_id(0);
    kc[kco + dst] = convert_char((int)QUANT(k[ko + src] * kq[d], kq[HEAD_DIM + d]));
    vc[vco + dst] = convert_char((int)QUANT(v[vo + src] * kq[2 * HEAD_DIM + d], kq[3 * HEAD_DIM + d]));
}
#endif
