/* stencil_template.h - one instruction set's kernels and their table
 * (hpl_stencil_ops, stencil.h): included by stencil.c once per path, with
 *   T_SFX      name suffix (the table is hpl_stencil_T_SFX)
 *   T_SIMD     its HPCLADDER_SIMD value, T_NAME its detail
 *   T_RUNS     expression: 1 if this CPU has the instructions
 *   T_TARGET   function attribute selecting them
 *   T_W        lanes of a vector, T_K levels per sweep
 *   T_FMA(a, b, c) a*b + c fused, T_HAS_FMA 1 if it is a real FMA.
 * Vectors are GCC's vector extensions, so one text serves every width; the
 * only intrinsic is the FMA (with -ffp-contract=off, a*b + c is never
 * fused). */

#define V HPL_CAT(hpl_v_, T_SFX)    /* T_W doubles, aligned */
#define VU HPL_CAT(hpl_vu_, T_SFX)  /* the same at any alignment */
typedef double V __attribute__((vector_size(8 * T_W), may_alias));
typedef double VU __attribute__((vector_size(8 * T_W), aligned(8), may_alias));

/* no T_TARGET: it runs before anyone knows that the CPU has them */
static int HPL_CAT(hpl_runs_, T_SFX)(void) { return T_RUNS; }

/* The field arrives at any alignment: unaligned loads of the three shifted
 * windows; the last < T_W points one at a time, with the same expression. */
static T_TARGET void HPL_CAT(hpl_step_, T_SFX)(const double *restrict a, double *restrict b, int64_t n, double r)
{
    const V rv = (V){0} + r, two = (V){0} + 2.0;
    int64_t i = 1;
    for (; i + T_W <= n - 1; i += T_W) {
        V l = *(const VU *)(a + i - 1), c = *(const VU *)(a + i), rr = *(const VU *)(a + i + 1);
        *(VU *)(b + i) = HPL_NAIVE(l, c, rr, rv, two);
    }
    for (; i < n - 1; i++)
        b[i] = HPL_NAIVE(a[i - 1], a[i], a[i + 1], r, 2.0);
}

static T_TARGET void HPL_CAT(hpl_scale_, T_SFX)(double *restrict dst, const double *restrict src, int64_t count,
                                               double s)
{
    const V sv = (V){0} + s;
    for (int64_t i = 0; i < count; i += T_W)
        *(V *)(dst + i) = *(const V *)(src + i) * sv;
}

/* One column of the wavefront, skewed by two rows per level: level s at row
 * c - 2(s-1), for s = K down to 1; level K is stored (if STORE).  With the
 * skew, level s needs level s-1 only at rows that earlier columns computed,
 * so the K updates of a column are independent (no chain of K latencies).
 * Level s (1 <= s < K) keeps three registers: X[s], Y[s], Z[s] hold its rows
 * x-1, x, x+1 where level s+1 computes row x; once that is done, level s's
 * new row x+2 replaces X[s].  The caller rotates the roles (X,Y,Z) ->
 * (Y,Z,X) from column to column, so the loop unrolled by three moves no
 * registers.  Level 0 is read from the buffer.  CHECK: reset the fixed
 * ends. */
#define T_UPDATE(l, x, rr)                                                \
    __extension__({                                                       \
        V u_;                                                             \
        if (SCALED)                                                       \
            u_ = (V)T_FMA(kv, (x), (l) + (rr));                           \
        else                                                              \
            u_ = HPL_NAIVE(l, x, rr, rv, two);                            \
        u_;                                                               \
    })
#define T_FIX(v, row, s)                                      \
    do {                                                      \
        if ((row) == sw->fix_lo)                              \
            (v)[0] = sw->lo_val[s];                           \
        if ((row) == sw->fix_hi)                              \
            (v)[T_W - 1] = sw->hi_val[s];                     \
    } while (0)
#define T_COLUMN(c, X, Y, Z, CHECK, STORE)                                             \
    do {                                                                               \
        _Pragma("GCC unroll 16") for (int s_ = T_K; s_ >= 2; s_--)                     \
        {                                                                              \
            V v_ = T_UPDATE(X[s_ - 1], Y[s_ - 1], Z[s_ - 1]);                          \
            if (CHECK)                                                                 \
                T_FIX(v_, (c) - 2 * (s_ - 1), s_);                                     \
            if (s_ < T_K)                                                              \
                X[s_] = v_;                                                            \
            else if (STORE)                                                            \
                *(V *)(buf + ((c) - 2 * (T_K - 1)) * T_W) = v_;                        \
        }                                                                              \
        const V *p_ = (const V *)(buf + ((c) - 1) * T_W);                              \
        V n_ = T_UPDATE(p_[0], p_[1], p_[2]);                                          \
        if (CHECK)                                                                     \
            T_FIX(n_, (c), 1);                                                         \
        X[1] = n_;                                                                     \
    } while (0)
/* one column with the roles of its place in the rotation */
#define T_COLUMN1(c, CHECK, STORE)                                                     \
    do {                                                                               \
        switch (((c) - c0) % 3) {                                                      \
        case 0: T_COLUMN(c, P, Q, R, CHECK, STORE); break;                             \
        case 1: T_COLUMN(c, Q, R, P, CHECK, STORE); break;                             \
        default: T_COLUMN(c, R, P, Q, CHECK, STORE); break;                            \
        }                                                                              \
    } while (0)

/* The sweep of one form (the skew costs K more rows on the right).  SCALED
 * is a constant at each call, so each form gets its own loop. */
static inline __attribute__((always_inline)) T_TARGET void
HPL_CAT(hpl_sweep_core_, T_SFX)(double *restrict buf, int64_t lo, int64_t hi, const hpl_sweep *sw, const int SCALED)
{
    const V rv = (V){0} + sw->r, two = (V){0} + 2.0;
    const V kv = (V){0} + sw->k;
    (void)kv;
    V P[T_K], Q[T_K], R[T_K];
    for (int s = 0; s < T_K; s++) /* any finite value: only feeds rows that are not valid */
        P[s] = Q[s] = R[s] = *(const V *)(buf + lo * T_W);
    const int64_t c0 = lo + 1, cend = hi - 1; /* columns: level 1 on rows [lo+1, hi-1) */
    const int64_t warm = c0 + 3 * T_K - 3 < cend ? c0 + 3 * T_K - 3 : cend; /* level K at row >= lo+K */
    int64_t c = c0;
    /* warm-up: the deeper levels are not valid yet, store nothing */
    for (; c < warm; c++)
        T_COLUMN1(c, 1, 0);
    /* the fixed ends need a reset in the 2K-1 columns where some level
     * passes their row; elsewhere the plain loop */
    int64_t f1 = sw->fix_lo != HPL_NO_ROW ? sw->fix_lo : cend, f2 = sw->fix_hi != HPL_NO_ROW ? sw->fix_hi : cend;
    if (f1 > f2) {
        int64_t t = f1;
        f1 = f2;
        f2 = t;
    }
    while (c < cend) {
        int64_t stop = cend;
        if (c < f1)
            stop = f1 < cend ? f1 : cend;
        else if (c < f1 + 2 * T_K - 1)
            stop = -1;
        else if (c < f2)
            stop = f2 < cend ? f2 : cend;
        else if (c < f2 + 2 * T_K - 1)
            stop = -1;
        if (stop < 0) {
            T_COLUMN1(c, 1, 1);
            c++;
        } else {
            for (; c < stop && (c - c0) % 3 != 0; c++)
                T_COLUMN1(c, 0, 1);
            for (; c + 3 <= stop; c += 3) {
                T_COLUMN(c, P, Q, R, 0, 1);
                T_COLUMN(c + 1, Q, R, P, 0, 1);
                T_COLUMN(c + 2, R, P, Q, 0, 1);
            }
            for (; c < stop; c++)
                T_COLUMN1(c, 0, 1);
        }
    }
}

static T_TARGET void HPL_CAT(hpl_sweep_, T_SFX)(double *restrict buf, int64_t lo, int64_t hi, const hpl_sweep *sw)
{
    if (T_HAS_FMA && sw->scaled)
        HPL_CAT(hpl_sweep_core_, T_SFX)(buf, lo, hi, sw, 1);
    else
        HPL_CAT(hpl_sweep_core_, T_SFX)(buf, lo, hi, sw, 0);
}

static const hpl_stencil_ops HPL_CAT(hpl_stencil_, T_SFX) = {
    .simd = T_SIMD,
    .name = T_NAME,
    .runs = HPL_CAT(hpl_runs_, T_SFX),
    .W = T_W,
    .K = T_K,
    .fma = T_HAS_FMA,
    .step = HPL_CAT(hpl_step_, T_SFX),
    .sweep = HPL_CAT(hpl_sweep_, T_SFX),
    .scale = HPL_CAT(hpl_scale_, T_SFX),
};

#undef V
#undef VU
#undef T_UPDATE
#undef T_FIX
#undef T_COLUMN
#undef T_COLUMN1
#undef T_SFX
#undef T_SIMD
#undef T_NAME
#undef T_RUNS
#undef T_TARGET
#undef T_W
#undef T_K
#undef T_FMA
#undef T_HAS_FMA
