/* npy.c - minimal reader and writer of NumPy .npy files (1-D, C order,
 * little-endian float64 / uint32), so that results can be compared with
 * anyone's code.  Writes go to a temporary file that is renamed into place:
 * a reader never sees a half-written file. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_npy(const char *path, const char *descr, const void *data, size_t elsize, int64_t n, char *err,
                     size_t errlen)
{
    char header[256];
    int hl = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (%lld,), }", descr,
                      (long long)n);
    /* magic(6) + version(2) + length(2) + header + padding + '\n' is a
     * multiple of 64, as the format asks */
    int total = 10 + hl + 1;
    int pad = (64 - total % 64) % 64;
    memset(header + hl, ' ', (size_t)pad);
    header[hl + pad] = '\n';
    uint16_t len = (uint16_t)(hl + pad + 1);

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (tmp == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    unsigned char lenb[2] = {(unsigned char)(len & 0xff), (unsigned char)(len >> 8)};
    int ok = fwrite(magic, 1, 8, f) == 8 && fwrite(lenb, 1, 2, f) == 2 &&
             fwrite(header, 1, len, f) == len && fwrite(data, elsize, (size_t)n, f) == (size_t)n;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int npy_write_f64(const char *path, const double *a, int64_t n, char *err, size_t errlen)
{
    return write_npy(path, "<f8", a, sizeof(double), n, err, errlen);
}

int npy_write_u32(const char *path, const uint32_t *a, int64_t n, char *err, size_t errlen)
{
    return write_npy(path, "<u4", a, sizeof(uint32_t), n, err, errlen);
}

int npy_check_writable(const char *path, char *err, size_t errlen)
{
    /* A file name, in a folder that exists and is writable; an existing
     * entry must be a writable regular file.  The file itself is created
     * only at the end. */
    size_t len = strlen(path);
    if (len == 0 || path[len - 1] == '/') {
        snprintf(err, errlen, "'%s' is not a file name", path);
        return -1;
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            snprintf(err, errlen, "cannot write '%s': it exists and is not a regular file", path);
            return -1;
        }
        if (access(path, W_OK) != 0) {
            snprintf(err, errlen, "cannot write '%s': it exists and is read-only", path);
            return -1;
        }
    }
    char *dir = strdup(path);
    if (dir == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *slash = strrchr(dir, '/');
    const char *d = ".";
    if (slash == dir)
        d = "/";
    else if (slash != NULL) {
        *slash = '\0';
        d = dir;
    }
    int rc = access(d, W_OK | X_OK);
    if (rc != 0)
        snprintf(err, errlen, "cannot write '%s': folder '%s' %s", path, d,
                 errno == ENOENT ? "does not exist" : "is not writable");
    free(dir);
    return rc == 0 ? 0 : -1;
}

/* Value of key in a .npy header dict, e.g. "'descr': '<f8'" -> "'<f8'". */
static const char *header_value(const char *h, const char *key)
{
    const char *p = strstr(h, key);
    if (p == NULL)
        return NULL;
    p += strlen(key);
    while (*p == ' ' || *p == '\'' || *p == '"' || *p == ':')
        p++;
    return p;
}

int npy_read_f64(const char *path, double **out, int64_t *n, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    unsigned char pre[12];
    char *h = NULL;
    double *a = NULL;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        snprintf(err, errlen, "'%s' is not a .npy file", path);
        goto fail;
    }
    size_t hlen;
    if (pre[6] == 1) {
        hlen = (size_t)pre[8] | ((size_t)pre[9] << 8);
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) {
            snprintf(err, errlen, "'%s': truncated header", path);
            goto fail;
        }
        hlen = (size_t)pre[8] | ((size_t)pre[9] << 8) | ((size_t)pre[10] << 16) | ((size_t)pre[11] << 24);
    } else {
        snprintf(err, errlen, "'%s': unsupported .npy version %d", path, pre[6]);
        goto fail;
    }
    if (hlen > (1u << 20) || (h = calloc(1, hlen + 1)) == NULL || fread(h, 1, hlen, f) != hlen) {
        snprintf(err, errlen, "'%s': unreadable header", path);
        goto fail;
    }
    const char *descr = header_value(h, "descr");
    const char *fo = header_value(h, "fortran_order");
    const char *shape = header_value(h, "shape");
    if (descr == NULL || strncmp(descr, "<f8", 3) != 0) {
        snprintf(err, errlen, "'%s': expected dtype float64 ('<f8'), header says %.40s", path, h);
        goto fail;
    }
    if (fo == NULL || strncmp(fo, "False", 5) != 0) {
        snprintf(err, errlen, "'%s': expected a C-ordered array", path);
        goto fail;
    }
    long long len = -1;
    if (shape != NULL && *shape == '(') {
        /* exactly one dimension: "(n,)" or "(n)" */
        char *end;
        len = strtoll(shape + 1, &end, 10);
        while (*end == ' ')
            end++;
        if (*end == ',')
            end++;
        while (*end == ' ')
            end++;
        if (end == shape + 1 || *end != ')')
            len = -1;
    }
    if (len < 0) {
        snprintf(err, errlen, "'%s': expected a 1-D array, header says %.60s", path, h);
        goto fail;
    }
    if (len < HPL_DIFFUSION_N_MIN || len > (INT64_C(1) << 48)) {
        snprintf(err, errlen, "'%s' holds %lld values: a field needs n >= %d", path, len, HPL_DIFFUSION_N_MIN);
        goto fail;
    }
    a = malloc((size_t)len * sizeof(double));
    if (a == NULL) {
        snprintf(err, errlen, "out of memory reading '%s' (%lld values)", path, len);
        goto fail;
    }
    if (fread(a, sizeof(double), (size_t)len, f) != (size_t)len) {
        snprintf(err, errlen, "'%s' is truncated: the header promises %lld values", path, len);
        goto fail;
    }
    fclose(f);
    free(h);
    *out = a;
    *n = len;
    return 0;
fail:
    fclose(f);
    free(h);
    free(a);
    return -1;
}
