/* diffusion.c - the talk's C program for the 1D diffusion equation
 * ("Python for High Performance Computing", Pomorski 2018, "C code" and
 * "C code continued"), built by each C compiler at each level of flags:
 * rungs c-talk-<compiler>-<level>.
 *
 * The talk's main() declared n = 100000 and niter = 2000 as constants, three
 * local arrays, the Gaussian initial field, and then the loop with its copy
 * loop.  Here the same code is cut into its two parts, talk_init and
 * talk_diffusion, so that the protocol layer (protocol.c) can pass the sizes,
 * time the loop alone over several repeats and write the final field.  What
 * changed, and why:
 *
 *   - n, niter and kappa are arguments instead of constants (the ladder runs
 *     other sizes too); they stay int / double as in the talk.
 *   - The arrays are the caller's (malloc'ed: the talk's local arrays of n
 *     doubles would not fit on the stack at n = 1e6); `restrict` tells the
 *     compiler what the talk's three separate local arrays told it: u and
 *     udt never overlap.  The unused x[n] is left out.
 *   - The talk zeroes udt, so its two ends become 0 after the first step; the
 *     protocol keeps the ends at their initial values, so udt's ends are
 *     copied from u after the talk's loop (as libhpcladder's kernel naive
 *     does).  For the talk's n = 1e5 Gaussian the ends are 0 either way.
 *
 * The loops themselves are the talk's, character for character. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "protocol.h"

/* The talk's initial field (its first loop). */
static void talk_init(int n, double *restrict u, double *restrict udt)
{
    int i;
    double dx=1.0;

    for (i=0; i<n; i++){
        u[i]=exp(-pow(dx*(i-n/2.0), 2.0)/100000.0);
        udt[i]=0.0;
    }
    udt[0]=u[0];            /* (the protocol's fixed ends, see above) */
    udt[n-1]=u[n-1];
}

/* The talk's time loop with its copy loop. */
void talk_diffusion(int n, int niter, double kappa, double *restrict u, double *restrict udt)
{
    int i, iter;

    for( iter=0;iter<niter;iter++){
        for ( i=1;i<n-1;i++){
            udt[i]=u[i]+kappa*(u[i+1]+u[i-1]-2*u[i]);
        }
        for ( i=0;i<n;i++){
            u[i]=udt[i];
        }
    }
}

int main(int argc, char **argv)
{
    tp_options o;
    tp_parse(argc, argv, "diffusion", &o);
    int n = (int)o.n, niter = (int)o.steps;
    double kappa = o.r;
    double *u = tp_alloc(n, sizeof *u), *udt = tp_alloc(n, sizeof *udt);
    double seconds[TP_MAX_REPEATS];
    for (int k = 0; k < o.repeats; k++) {
        talk_init(n, u, udt);               /* untimed: each repeat starts from the talk's field */
        double t0 = tp_now();
        talk_diffusion(n, niter, kappa, u, udt);
        seconds[k] = tp_now() - t0;
    }
    tp_record_diffusion(&o, seconds, u);
    free(u);
    free(udt);
    return 0;
}
