/* stencil.h - kernel code shared by simd.c, tiled.c and tiled_openmp.c
 * (internal; stencil.c implements it).
 *
 * 1. One table of kernels per instruction set (hpl_stencil_ops): AVX-512F,
 *    AVX2+FMA and portable C, all three made by one template
 *    (stencil_template.h).  hpl_stencil_pick chooses the table once, when a
 *    plan is created, from __builtin_cpu_supports; the plan keeps it and calls
 *    through it.  The environment variable HPCLADDER_SIMD=portable|avx2|avx512
 *    may force a LOWER path (tests run every path on one machine); asking for
 *    a path the CPU lacks, or any other value, leaves the best path.
 *
 * 2. One time step over the whole field (hpl_stencil_steps): the naive
 *    arithmetic u + r*((ur + ul) - 2u) in every lane, so every path is
 *    bit-identical to naive.
 *
 * 3. Temporal blocking by lane folding with a register wavefront (hpl_fold_*),
 *    used by tiled.c (tiles one after the other) and tiled_openmp.c (tiles over
 *    threads):
 *    - Fold: the N = n-2 interior points are cut into W segments of m rows
 *      (W = lanes of a vector); row j holds point j of every segment, so a
 *      point's neighbours sit in the same lane of rows j-1 and j+1 and no
 *      shuffles are needed.  The N - W*m (< W) points left over live after
 *      the rows and are advanced in the halo of lane W-1.
 *    - Period: the rows are split into tiles; a tile plus T + W halo rows on
 *      the left and 2T + W on the right is copied into a private buffer (halo
 *      rows beyond the fold come from the neighbouring lane), advanced T
 *      steps there and its centre written back to the other copy of the
 *      field (ghost zones: the valid part of the buffer shrinks each step by
 *      one row on the left, two on the right).
 *    - Sweep: K steps in one pass over the buffer; level s+1 of row x is
 *      computed as soon as level s of row x+2 is, all levels in registers
 *      (a register wavefront, skewed so that the K updates of one pass are
 *      independent), so memory sees one load and one store per row for K
 *      steps.
 *    - Fixed ends: u[0] is row 0 of lane 0 and u[n-1] a halo row of lane W-1;
 *      both are reset to their fixed values after every level.
 *    - Arithmetic: with FMA the "scaled" form.  With w = u * g^s (s = level
 *      within the period, g = k + 2, k ~ (1-2r)/r a double) the update
 *      u' = (1-2r)u + r(ul+ur) becomes w' = fma(k, w, wl + wr): one add and
 *      one FMA per point and step instead of naive's three adds and two
 *      multiplies.  At the end of a period the field is multiplied by g^-T
 *      (long double, its rounding carried into the next period); T is capped
 *      so that w cannot overflow.  Exactly, this is the scheme with
 *      r' = 1/g = r(1 + ~1e-16): the same answer to far below 1e-12.  In
 *      rounding it is not naive's bits; on the talk's run (n=1e5, 50000
 *      steps, r=0.1) it is ~2e-15 of max|u| from a long-double reference,
 *      naive 5.7e-15.  Without FMA (portable), or when r is so small that
 *      g^K could overflow, the sweeps use naive's expression and are
 *      bit-identical to naive.
 *    - Every point gets the same arithmetic whatever tile or thread computes
 *      it: for a given period T the result does not depend on the tiling or
 *      the thread count (T itself follows the tile size, see
 *      hpl_fold_create).
 *
 * docs/diffusion-kernels.md has the measured figures behind the choices. */
#ifndef HPCLADDER_DIFFUSION_STENCIL_H
#define HPCLADDER_DIFFUSION_STENCIL_H

#include "backend.h"

/* ---- 1. one table of kernels per instruction set ------------------------- */

/* No such row (the warm-up of a sweep visits rows down to -K, so -1 won't do). */
#define HPL_NO_ROW INT64_MIN

/* What one sweep needs besides the buffer. */
typedef struct hpl_sweep {
    int scaled;           /* 1: w' = fma(k, w, wl + wr); 0: naive expression */
    double r, k;          /* r for the naive form, k for the scaled one */
    int64_t fix_lo;       /* buffer row holding u[0] in lane 0, or HPL_NO_ROW */
    int64_t fix_hi;       /* buffer row holding u[n-1] in lane W-1, or HPL_NO_ROW */
    const double *lo_val; /* value of u[0] at level s of this sweep: lo_val[s] */
    const double *hi_val; /* value of u[n-1] likewise */
} hpl_sweep;

/* One instruction set's kernels; stencil_template.h makes one such table per
 * path, so every path runs the same code at its own width. */
typedef struct hpl_stencil_ops {
    const char *simd;   /* its HPCLADDER_SIMD value: portable, avx2, avx512 */
    const char *name;   /* what the backends' detail reports */
    int (*runs)(void);  /* 1 if this CPU has the instructions */
    int W, K;           /* lanes of a vector; levels per sweep */
    int fma;            /* 1: the sweeps may take the scaled form */
    /* b[1..n-2] = one step of a[]; b[0], b[n-1] untouched.  naive.c's
     * expression in its order, so the result is naive's to the bit. */
    void (*step)(const double *restrict a, double *restrict b, int64_t n, double r);
    /* K levels over buffer rows [lo, hi) (rows of W doubles, valid at level
     * 0), in place: afterwards rows [lo+K, hi-2K) hold level K. */
    void (*sweep)(double *restrict buf, int64_t lo, int64_t hi, const hpl_sweep *sw);
    /* dst[i] = src[i] * s, i < count (count a multiple of W, both aligned). */
    void (*scale)(double *restrict dst, const double *restrict src, int64_t count, double s);
} hpl_stencil_ops;

/* The best path this CPU runs, lowered by HPCLADDER_SIMD if set. */
HPL_INTERNAL const hpl_stencil_ops *hpl_stencil_pick(void);

/* The name of the path a plan created now would use (the backends' detail). */
HPL_INTERNAL const char *hpl_stencil_detail(void);

/* ---- 2. one step at a time ------------------------------------------------ */

/* Advance u by `steps` steps, one at a time, with ops->step; `work` holds n
 * doubles.  Pointer swap, as serial.c; the result ends in u. */
HPL_INTERNAL void hpl_stencil_steps(const hpl_stencil_ops *ops, double *u, double *work, int64_t n, double r,
                                    int64_t steps);

/* ---- 3. lane folding, register wavefront, ghost-zone tiles ---------------- */

/* The folded field and the tiling of its rows; all memory is allocated by
 * hpl_fold_create, none by the run functions. */
typedef struct hpl_fold {
    const hpl_stencil_ops *ops; /* the path, chosen at create */
    int W, K;                   /* ops->W, ops->K */
    int64_t n, m, rem; /* m rows of W lanes; rem = N - W*m points left over */
    int64_t T;         /* longest period (steps, a multiple of K) */
    int64_t H, HR;     /* halo rows left (T + W) and right (2T + W, see the sweep) */
    int64_t ntiles;    /* tile t holds rows [tile_lo(t), tile_lo(t+1)) */
    int64_t rows_max;  /* rows of the largest tile */
    int nbuf;          /* private buffers, one per worker */
    double *F[2];      /* two copies of the folded field, n doubles each */
    double *buf;       /* nbuf buffers of buf_len doubles */
    int64_t buf_len;
    double *fix; /* 2*(T+1): per-level values of u[0] and u[n-1] */
} hpl_fold;

/* What one execute decided: form, constants, period. */
typedef struct hpl_fold_run {
    int scaled;
    double r, k;
    long double g; /* k + 2 = 1/r' exactly; level s is scaled by g^s */
    int64_t T;     /* steps per period this run (multiple of K, <= fold T) */
} hpl_fold_run;

/* Plan the fold of plan's field on the path hpl_stencil_pick chooses: tiles
 * of about `tile_rows` rows, their count a multiple of `workers` where the
 * rows allow, min(workers, tiles) buffers and T <= `period`; sets plan->work.
 * T = 0 if n is too small to fold (the kernel then steps one at a time).
 * HPL_ENOMEM, with a message naming `kernel`, if allocation fails; nothing is
 * allocated then. */
HPL_INTERNAL hpl_status hpl_fold_create(hpl_diffusion_plan *plan, const char *kernel, int64_t period,
                                        int64_t tile_rows, int workers);

/* Free f and everything it holds. */
HPL_INTERNAL void hpl_fold_destroy(hpl_fold *f);

/* Choose the arithmetic and the period for this run, fill the per-level
 * values of the ends and fold u into F[0].  Returns 0 (and touches nothing)
 * if the fold cannot be used: the caller steps one at a time instead. */
HPL_INTERNAL int hpl_fold_begin(hpl_fold *f, const double *u, double r, int64_t steps, hpl_fold_run *run);

/* Unfold F into u[1..n-2]. */
HPL_INTERNAL void hpl_fold_end(const hpl_fold *f, const double *F, double *u);

/* Steps in the next period: a multiple of K, 0 when fewer than K are left. */
HPL_INTERNAL int64_t hpl_fold_period(const hpl_fold *f, const hpl_fold_run *run, int64_t left);

/* Factor that takes level T back to u: g^-T rounded to a double, 1 for the
 * naive form.  *carry (start at 1) keeps what the roundings of earlier
 * periods left over, so that they do not add up over many periods. */
HPL_INTERNAL double hpl_fold_unscale(const hpl_fold_run *run, int64_t T, long double *carry);

/* Advance tile t by T steps (a multiple of K, T <= run->T): rows of src, in
 * buffer buf, results to the same rows of dst (scaled back by unscale).
 * Tiles read src only and write disjoint rows of dst, so they may run
 * concurrently. */
HPL_INTERNAL void hpl_fold_tile(const hpl_fold *f, const hpl_fold_run *run, int64_t t, int64_t T, double unscale,
                                const double *src, double *dst, double *buf);

#endif /* HPCLADDER_DIFFUSION_STENCIL_H */
