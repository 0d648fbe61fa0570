/* fuzz_npy.c - libFuzzer target for the .npy reader of hpcladder-c: the
 * input is the whole file, read by npy_read_f64_fd exactly as
 * `hpcladder-c diffusion --init file:PATH` reads it (fstat, preamble,
 * header, size check, data).  Beyond the sanitizers it checks what the
 * reader promises: a failure returns no array and a message naming the
 * file; a success returns exactly the bytes at the end of the file, no
 * more values than the file holds, and what npy_write_f64 writes from them
 * reads back the same. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char NAME[] = "fuzz-input.npy";

/* Print why and abort: libFuzzer (or the replay driver) reports the input. */
static void fail(const char *why, const char *err)
{
    fprintf(stderr, "fuzz_npy: %s (message: '%s')\n", why, err);
    abort();
}

/* The file the reader reads: one unnamed temporary file, rewritten for
 * each input (tmpfile: removed when the process ends). */
static int input_fd(void)
{
    static FILE *f;
    if (f == NULL && (f = tmpfile()) == NULL) {
        perror("fuzz_npy: tmpfile");
        abort();
    }
    return fileno(f);
}

static char out_dir[] = "/tmp/hpl-fuzz-npy-XXXXXX";
static char out_path[sizeof out_dir + 16];

static void remove_out(void)
{
    unlink(out_path);
    rmdir(out_dir);
}

/* A folder of its own for the writer's round trip (removed at exit). */
static const char *output_path(void)
{
    if (out_path[0] == '\0') {
        if (mkdtemp(out_dir) == NULL) {
            perror("fuzz_npy: mkdtemp");
            abort();
        }
        snprintf(out_path, sizeof out_path, "%s/out.npy", out_dir);
        atexit(remove_out);
    }
    return out_path;
}

/* A field the reader accepted, written by npy_write_f64 and read back. */
static void round_trip(const double *a, int64_t n)
{
    char err[512] = "";
    double *b = NULL;
    int64_t m = 0;
    const char *path = output_path();
    if (npy_check_writable(path, err, sizeof err) != 0 || npy_write_f64(path, a, n, err, sizeof err) != 0)
        fail("cannot write a field the reader accepted", err);
    if (npy_read_f64(path, &b, &m, err, sizeof err) != 0)
        fail("the reader refuses what npy_write_f64 wrote", err);
    if (m != n || memcmp(a, b, (size_t)n * sizeof(double)) != 0)
        fail("a written field reads back different", "");
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = input_fd();
    if (ftruncate(fd, 0) != 0 || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size)) {
        perror("fuzz_npy: cannot write the input file");
        abort();
    }
    char err[512] = "";
    double *a = (double *)&err; /* not NULL: the reader must clear it */
    int64_t n = -1;
    if (npy_read_f64_fd(fd, NAME, &a, &n, err, sizeof err) != 0) {
        if (a != NULL)
            fail("a failed read returned an array", err);
        if (err[0] == '\0' || strstr(err, NAME) == NULL)
            fail("a failed read's message does not name the file", err);
        return 0;
    }
    size_t bytes = (size_t)n * sizeof(double);
    if (a == NULL || n < HPL_DIFFUSION_N_MIN || bytes + 16 > size)
        fail("a successful read returned more values than the file holds", err);
    if (memcmp(data, "\x93NUMPY", 6) != 0)
        fail("a file without the magic was accepted", err);
    if (memcmp(a, data + size - bytes, bytes) != 0)
        fail("the values are not the file's last 8n bytes", err);
    round_trip(a, n);
    free(a);
    return 0;
}
