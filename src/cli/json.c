/* json.c - the two JSON writers that hpcladder-c and hpcladder-c-mpi share
 * for their records: strings with the escapes a path can need, and doubles
 * that round-trip (JSON has no NaN or Infinity). */
#include "cli.h"

#include <math.h>

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20) /* control characters: JSON wants them escaped */
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void cli_json_double(FILE *f, double x)
{
    if (isfinite(x))
        fprintf(f, "%.17g", x);
    else
        fputs("null", f);
}
