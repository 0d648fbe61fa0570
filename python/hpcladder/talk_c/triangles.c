/* triangles.c - the talk's C function findnumsolutions (the "C code :
 * findnumsolutions.c" slide, which the talk called through ctypes and timed
 * as a plain C program: "pure C code (icc): 0.068 s ... (GCC): 0.134" for
 * N = 1000) with its driver, the loop over p of the talk's Python program
 * written in C.  Built by each C compiler at each level of flags: rungs
 * c-talk-<compiler>-<level>.
 *
 * findnumsolutions is the talk's, verbatim: int arithmetic, a and b below
 * p/2.  The driver is the talk's loop (nmax, imax, "if nsols > nmax"); it
 * also keeps every count, which the protocol's result file needs.  The
 * talk's int arithmetic holds while c*c < 2^31, i.e. for p <= 46340, so N
 * is refused (SKIPPED) beyond 46341; c-brute runs larger N in 64-bit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "protocol.h"

#define TALK_N_MAX 46341

int findnumsolutions(int p){
    int a,b,c,n;
    n=0;
    for(a=1;a<p/2;a++){
        for (b=a;b<p/2;b++){
            c=p-a-b;
            if (a*a+b*b==c*c) {
                n=n+1;
            }
        }
    }
    return n;
}

/* The talk's loop over p (its Python driver, in C); returns imax. */
int talk_driver(int N, uint32_t *counts)
{
    int i, nsols, nmax=0, imax=0;

    counts[0]=0;
    for (i=1; i<N; i++){
        nsols=findnumsolutions(i);
        counts[i]=(uint32_t)nsols;
        if (nsols>nmax){
            nmax=nsols; imax=i;
        }
    }
    return imax;
}

int main(int argc, char **argv)
{
    tp_options o;
    tp_parse(argc, argv, "triangles", &o);
    if (o.N > TALK_N_MAX)
        tp_skip(&o, "the talk's findnumsolutions works in int: c*c overflows past p = 46340, so N <= 46341",
                "nothing to install: for larger N use c-brute (the same loop in 64-bit), c-direct or c-euclid");
    int N = (int)o.N;
    uint32_t *counts = tp_alloc(N, sizeof *counts);
    double seconds[TP_MAX_REPEATS];
    volatile int imax = 0;                  /* (kept, so that no compiler drops the loop) */
    for (int k = 0; k < o.repeats; k++) {
        double t0 = tp_now();
        imax = talk_driver(N, counts);
        seconds[k] = tp_now() - t0;
    }
    (void)imax;
    tp_record_triangles(&o, seconds, counts);
    free(counts);
    return 0;
}
