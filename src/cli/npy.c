/* npy.c - minimal reader and writer of NumPy .npy files (1-D, C order,
 * little-endian float64 / uint32), so that results can be compared with
 * anyone's code.  The reader trusts nothing in a file: the header is parsed
 * strictly and its promised size is checked against the file's size before
 * anything is allocated.  Writes go to a short hidden temporary file beside
 * the target that is renamed into place: a reader never sees a half-written
 * file. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A header this long is no .npy file we write or read: numpy's own loader
 * refuses headers over 10000 bytes by default. */
#define NPY_HEADER_MAX 65536
/* The largest field the CLI accepts (as --n). */
#define NPY_VALUES_MAX (INT64_C(1) << 48)

/* ---- writing ------------------------------------------------------------- */

/* "DIR/.hpcladder-XXXXXX" for path "DIR/NAME" (or ".hpcladder-XXXXXX"): the
 * temporary name's last part is short whatever the length of NAME, so any
 * name the folder accepts can be written.  NULL when out of memory. */
static char *temp_template(const char *path)
{
    static const char base[] = ".hpcladder-XXXXXX";
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    char *t = malloc(dirlen + sizeof base);
    if (t != NULL) {
        memcpy(t, path, dirlen);
        memcpy(t + dirlen, base, sizeof base);
    }
    return t;
}

/* Create a temporary file beside path (O_EXCL, through mkstemp) with the
 * permissions a plain create would give (0666 less the umask).  Returns the
 * open descriptor and its name in *tmp (malloc'ed), or -1 with errno set. */
static int create_temp(const char *path, char **tmp)
{
    *tmp = temp_template(path);
    if (*tmp == NULL) {
        errno = ENOMEM;
        return -1;
    }
    int fd = mkstemp(*tmp);
    if (fd < 0) {
        int e = errno;
        free(*tmp);
        *tmp = NULL;
        errno = e;
        return -1;
    }
    mode_t mask = umask(0); /* read the umask: there is no other way */
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) {
        int e = errno;
        close(fd);
        unlink(*tmp);
        free(*tmp);
        *tmp = NULL;
        errno = e;
        return -1;
    }
    return fd;
}

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

    char *tmp;
    int fd = create_temp(path, &tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (f == NULL) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
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
        unlink(tmp);
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
    /* Everything the write at the end will do is tried now, on files that
     * are removed at once: the hidden temporary file is created in the
     * folder, and a final name that does not exist yet is created too (so
     * that a name the file system refuses, e.g. too long, fails before the
     * run, not after it).  An existing target must be a writable regular
     * file. */
    size_t len = strlen(path);
    if (len == 0 || path[len - 1] == '/') {
        snprintf(err, errlen, "'%s' is not a file name", path);
        return -1;
    }
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "cannot write '%s': it exists and is not a regular file", path);
        return -1;
    }
    if (exists && access(path, W_OK) != 0) {
        snprintf(err, errlen, "cannot write '%s': it exists and is read-only", path);
        return -1;
    }
    if (!exists && errno != ENOENT) { /* too long, a file used as a folder, ... */
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    char *tmp;
    int fd = create_temp(path, &tmp);
    if (fd < 0) {
        int e = errno;
        /* the folder, for the message: "." or "/" when path has none */
        const char *slash = strrchr(path, '/'), *dir = slash == NULL ? "." : slash == path ? "/" : path;
        int dl = slash == NULL || slash == path ? 1 : (int)(slash - path);
        if (e == ENOENT)
            snprintf(err, errlen, "cannot write '%s': folder '%.*s' does not exist", path, dl, dir);
        else if (e == EACCES || e == EPERM || e == EROFS)
            snprintf(err, errlen, "cannot write '%s': folder '%.*s' is not writable", path, dl, dir);
        else
            snprintf(err, errlen, "cannot write '%s': %s", path, strerror(e));
        return -1;
    }
    close(fd);
    unlink(tmp);
    free(tmp);
    if (!exists) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno != EEXIST) { /* EEXIST: created meanwhile, rename replaces it */
            snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
            return -1;
        }
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
    }
    return 0;
}

/* ---- reading: the header --------------------------------------------------- */

/* What the reader needs from a header. */
typedef struct npy_header {
    const char *descr; /* the dtype string, not NUL-terminated */
    size_t descr_len;
    int fortran_order;
    int ndim;
    int64_t count; /* product of the shape */
    int overflow;  /* the product does not fit in int64 */
} npy_header;

/* A cursor over the header text; err/errlen/name for messages. */
typedef struct cursor {
    const char *p, *end;
    const char *name;
    char *err;
    size_t errlen;
} cursor;

/* How much of the text at the cursor a message shows: at most 20 bytes. */
static int shown(const cursor *c)
{
    return c->end - c->p < 20 ? (int)(c->end - c->p) : 20;
}

static void skip_spaces(cursor *c)
{
    while (c->p < c->end && *c->p == ' ')
        c->p++;
}

/* Consume ch (after spaces); 0, or -1 with a message naming what follows. */
static int expect_char(cursor *c, char ch, const char *where)
{
    skip_spaces(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 0;
    }
    snprintf(c->err, c->errlen, "'%s': bad .npy header: expected '%c' %s, found '%.*s'", c->name, ch, where, shown(c),
             c->p);
    return -1;
}

/* A Python string literal without escapes, in ' or " quotes. */
static int parse_string(cursor *c, const char **s, size_t *len, const char *what)
{
    skip_spaces(c);
    char q = c->p < c->end ? *c->p : '\0';
    if (q != '\'' && q != '"') {
        snprintf(c->err, c->errlen, "'%s': bad .npy header: expected a quoted string as %s, found '%.*s'", c->name,
                 what, shown(c), c->p);
        return -1;
    }
    const char *start = ++c->p;
    while (c->p < c->end && *c->p != q && *c->p != '\\')
        c->p++;
    if (c->p >= c->end || *c->p != q) {
        snprintf(c->err, c->errlen, "'%s': bad .npy header: unterminated or escaped string as %s", c->name, what);
        return -1;
    }
    *s = start;
    *len = (size_t)(c->p - start);
    c->p++;
    return 0;
}

/* Whether the word at the cursor is exactly w (followed by a delimiter). */
static int take_word(cursor *c, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
        return 0;
    const char *after = c->p + n;
    if (after < c->end && *after != ' ' && *after != ',' && *after != '}')
        return 0;
    c->p = after;
    return 1;
}

static int parse_bool(cursor *c, int *out)
{
    skip_spaces(c);
    if (take_word(c, "True"))
        *out = 1;
    else if (take_word(c, "False"))
        *out = 0;
    else {
        snprintf(c->err, c->errlen, "'%s': bad .npy header: 'fortran_order' must be True or False, found '%.*s'",
                 c->name, shown(c), c->p);
        return -1;
    }
    return 0;
}

/* One dimension: a non-negative decimal integer that fits in int64, no
 * sign, no leading zeros, no underscores (numpy writes plain digits). */
static int parse_dim(cursor *c, int64_t *out)
{
    skip_spaces(c);
    const char *start = c->p;
    int64_t v = 0;
    int big = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        int d = *c->p - '0';
        if (v > (INT64_MAX - d) / 10)
            big = 1;
        else
            v = v * 10 + d;
        c->p++;
    }
    size_t nd = (size_t)(c->p - start);
    if (nd == 0 || (nd > 1 && *start == '0')) {
        c->p = start;
        snprintf(c->err, c->errlen, "'%s': bad .npy header: a shape dimension must be a whole number >= 0, found "
                 "'%.*s'", c->name, shown(c), start);
        return -1;
    }
    if (big) {
        snprintf(c->err, c->errlen, "'%s': bad .npy header: shape dimension %.*s is too large", c->name,
                 nd > 40 ? 40 : (int)nd, start);
        return -1;
    }
    *out = v;
    return 0;
}

/* A shape tuple: "()", "(n,)", "(n, m)", "(n, m,)". */
static int parse_shape(cursor *c, npy_header *h)
{
    if (expect_char(c, '(', "to open the shape tuple") != 0)
        return -1;
    h->ndim = 0;
    h->count = 1;
    h->overflow = 0;
    skip_spaces(c);
    while (c->p < c->end && *c->p != ')') {
        int64_t d;
        if (parse_dim(c, &d) != 0)
            return -1;
        if (d != 0 && h->count > INT64_MAX / d)
            h->overflow = 1;
        else
            h->count *= d;
        h->ndim++;
        skip_spaces(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            skip_spaces(c);
        } else if (h->ndim == 1 || c->p >= c->end || *c->p != ')') {
            /* "(n)" is a number, not a tuple */
            snprintf(c->err, c->errlen, "'%s': bad .npy header: the shape must be a tuple such as (n,), found "
                     "'%.*s'", c->name, shown(c), c->p);
            return -1;
        }
    }
    return expect_char(c, ')', "to close the shape tuple");
}

enum { KEY_DESCR, KEY_FORTRAN, KEY_SHAPE, KEY_COUNT };
static const char *const header_keys[KEY_COUNT] = {"descr", "fortran_order", "shape"};

/* The dict of a header (text without its final newline): exactly the keys
 * descr, fortran_order and shape, each once, then only spaces. */
static int parse_dict(cursor *c, npy_header *h)
{
    int seen[KEY_COUNT] = {0};
    if (expect_char(c, '{', "to open the header dict") != 0)
        return -1;
    skip_spaces(c);
    while (c->p < c->end && *c->p != '}') {
        const char *key;
        size_t klen;
        if (parse_string(c, &key, &klen, "a key") != 0)
            return -1;
        int k;
        for (k = 0; k < KEY_COUNT; k++)
            if (strlen(header_keys[k]) == klen && memcmp(header_keys[k], key, klen) == 0)
                break;
        if (k == KEY_COUNT || seen[k]) {
            snprintf(c->err, c->errlen, "'%s': bad .npy header: %s key '%.*s' (expected descr, fortran_order and "
                     "shape, each once)", c->name, k == KEY_COUNT ? "unexpected" : "repeated",
                     klen > 40 ? 40 : (int)klen, key);
            return -1;
        }
        seen[k] = 1;
        if (expect_char(c, ':', "after a key") != 0)
            return -1;
        int rc = k == KEY_DESCR   ? parse_string(c, &h->descr, &h->descr_len, "the value of 'descr'")
                 : k == KEY_SHAPE ? parse_shape(c, h)
                                  : parse_bool(c, &h->fortran_order);
        if (rc != 0)
            return -1;
        skip_spaces(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            skip_spaces(c);
        } else if (c->p >= c->end || *c->p != '}') {
            return expect_char(c, '}', "or ',' after a value");
        }
    }
    if (expect_char(c, '}', "to close the header dict") != 0)
        return -1;
    skip_spaces(c);
    if (c->p != c->end) {
        snprintf(c->err, c->errlen, "'%s': bad .npy header: unexpected text after the dict: '%.*s'", c->name, shown(c), c->p);
        return -1;
    }
    for (int k = 0; k < KEY_COUNT; k++) {
        if (!seen[k]) {
            snprintf(c->err, c->errlen, "'%s': bad .npy header: the key '%s' is missing", c->name, header_keys[k]);
            return -1;
        }
    }
    return 0;
}

/* The header text h[0..len): printable ASCII ending in one newline, then
 * the dict.  Spaces are the only blanks (numpy writes no other).  0, or -1
 * with a message. */
static int parse_header(const char *name, const char *h, size_t len, npy_header *out, char *err, size_t errlen)
{
    if (len == 0 || h[len - 1] != '\n') {
        snprintf(err, errlen, "'%s': bad .npy header: it does not end with a newline", name);
        return -1;
    }
    for (size_t i = 0; i + 1 < len; i++) {
        unsigned char ch = (unsigned char)h[i];
        if (ch < 0x20 || ch > 0x7e) {
            snprintf(err, errlen, "'%s': bad .npy header: byte 0x%02x at offset %zu is not printable ASCII", name, ch,
                     i);
            return -1;
        }
    }
    memset(out, 0, sizeof *out);
    cursor c = {h, h + len - 1, name, err, errlen};
    return parse_dict(&c, out);
}

/* ---- reading: the file ----------------------------------------------------- */

/* Read exactly len bytes at offset off; 0, or -1 (errno 0 at end of file). */
static int pread_all(int fd, void *buf, size_t len, off_t off)
{
    char *b = buf;
    while (len > 0) {
        ssize_t got = pread(fd, b, len, off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = 0;
            return -1;
        }
        b += got;
        len -= (size_t)got;
        off += got;
    }
    return 0;
}

/* The preamble: magic, version, header length.  Sets *hstart (where the
 * header text starts) and *hlen; checks both against the file size. */
static int read_preamble(int fd, const char *name, off_t size, size_t *hstart, size_t *hlen, char *err,
                         size_t errlen)
{
    unsigned char pre[12];
    if (size < 10 || pread_all(fd, pre, 10, 0) != 0 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        snprintf(err, errlen, "'%s' is not a .npy file (no \\x93NUMPY magic)", name);
        return -1;
    }
    if (pre[6] < 1 || pre[6] > 3 || pre[7] != 0) {
        snprintf(err, errlen, "'%s': unsupported .npy version %d.%d (1.0, 2.0 and 3.0 are)", name, pre[6], pre[7]);
        return -1;
    }
    if (pre[6] == 1) { /* 1.0: a 2-byte length; 2.0 and 3.0: 4 bytes */
        *hstart = 10;
        *hlen = (size_t)pre[8] | ((size_t)pre[9] << 8);
    } else {
        if (size < 12 || pread_all(fd, pre + 10, 2, 10) != 0) {
            snprintf(err, errlen, "'%s': truncated .npy preamble", name);
            return -1;
        }
        *hstart = 12;
        *hlen = (size_t)pre[8] | ((size_t)pre[9] << 8) | ((size_t)pre[10] << 16) | ((size_t)pre[11] << 24);
    }
    if (*hlen > NPY_HEADER_MAX) {
        snprintf(err, errlen, "'%s': bad .npy header: its length %zu is over the %d bytes this reader accepts", name,
                 *hlen, NPY_HEADER_MAX);
        return -1;
    }
    if ((*hstart + *hlen) % 16 != 0) {
        /* numpy pads the header so that the data is aligned (to 64 bytes
         * since numpy 1.14, 16 before); a length that is not is corrupt */
        snprintf(err, errlen, "'%s': bad .npy header: the data would start at byte %zu, not a multiple of 16 as the "
                 "format asks", name, *hstart + *hlen);
        return -1;
    }
    if ((off_t)(*hstart + *hlen) > size) {
        snprintf(err, errlen, "'%s' is truncated: the header should be %zu bytes, the file has %lld in all", name,
                 *hlen, (long long)size);
        return -1;
    }
    return 0;
}

/* The header's content as this reader needs it: '<f8', one dimension,
 * 3 <= n <= 2^48 values.  Sets *n. */
static int check_header(const char *name, const npy_header *h, int64_t *n, char *err, size_t errlen)
{
    if (h->descr_len != 3 || memcmp(h->descr, "<f8", 3) != 0) {
        snprintf(err, errlen, "'%s': expected dtype float64 ('<f8'), the header says '%.*s'", name,
                 h->descr_len > 40 ? 40 : (int)h->descr_len, h->descr);
        return -1;
    }
    /* fortran_order may be True: a 1-D array's C and Fortran layouts are
     * the same bytes */
    if (h->ndim != 1) {
        snprintf(err, errlen, "'%s': expected a 1-D array, the header's shape has %d dimensions", name, h->ndim);
        return -1;
    }
    if (h->count < HPL_DIFFUSION_N_MIN || h->count > NPY_VALUES_MAX) {
        snprintf(err, errlen, "'%s' holds %lld values: a field needs %d <= n <= 2^48", name, (long long)h->count,
                 HPL_DIFFUSION_N_MIN);
        return -1;
    }
    *n = h->count;
    return 0;
}

int npy_read_f64_fd(int fd, const char *name, double **out, int64_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot read '%s': %s", name, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        /* the size must be known before anything is allocated */
        snprintf(err, errlen, "cannot read '%s': not a regular file", name);
        return -1;
    }
    size_t hstart, hlen;
    if (read_preamble(fd, name, st.st_size, &hstart, &hlen, err, errlen) != 0)
        return -1;
    char *text = malloc(hlen + 1); /* hlen is within the file and at most NPY_HEADER_MAX */
    if (text == NULL) {
        snprintf(err, errlen, "out of memory reading the header of '%s'", name);
        return -1;
    }
    npy_header h;
    int rc = -1;
    if (pread_all(fd, text, hlen, (off_t)hstart) != 0)
        snprintf(err, errlen, "cannot read '%s': %s", name, errno ? strerror(errno) : "it shrank while read");
    else if (parse_header(name, text, hlen, &h, err, errlen) == 0 && check_header(name, &h, n, err, errlen) == 0)
        rc = 0;
    free(text); /* h.descr pointed into text: not used below */
    if (rc != 0)
        return -1;

    /* The promise against the file, before allocating: n <= 2^48, so
     * 8n cannot overflow. */
    off_t data = st.st_size - (off_t)(hstart + hlen);
    off_t want = (off_t)*n * (off_t)sizeof(double);
    if (data != want) {
        snprintf(err, errlen, "'%s' is %s: the header promises %lld values (%lld bytes), the file holds %lld bytes of "
                 "data", name, data < want ? "truncated" : "longer than its header says", (long long)*n,
                 (long long)want, (long long)data);
        return -1;
    }
    double *a = malloc((size_t)want);
    if (a == NULL) {
        snprintf(err, errlen, "out of memory reading '%s' (%lld values)", name, (long long)*n);
        return -1;
    }
    if (pread_all(fd, a, (size_t)want, (off_t)(hstart + hlen)) != 0) {
        snprintf(err, errlen, "cannot read '%s': %s", name, errno ? strerror(errno) : "it shrank while read");
        free(a);
        return -1;
    }
    *out = a;
    return 0;
}

int npy_read_f64(const char *path, double **out, int64_t *n, char *err, size_t errlen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    int rc = npy_read_f64_fd(fd, path, out, n, err, errlen);
    close(fd);
    return rc;
}
