/* replay.c - a plain main() for a fuzz target, so that every ctest build
 * (gcc Release, ASan+UBSan, minimal) runs the seed corpus and the
 * regressions through LLVMFuzzerTestOneInput without libFuzzer.  Usage:
 * replay FILE-OR-FOLDER...; a folder's files run in name order.  A failing
 * input aborts inside the target (its path is printed first); finding no
 * input at all is a failure too, so that a moved folder cannot pass. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run one file: read into a buffer of its exact size (so that a read past
 * the input is an ASan error, as under libFuzzer).  0, or -1 if unreadable. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        perror(path);
        fclose(f);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *data = malloc(size > 0 ? size : 1);
    if (data == NULL || fread(data, 1, size, f) != size) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(data);
        fclose(f);
        return -1;
    }
    fclose(f);
    fprintf(stderr, "replay: %s\n", path); /* the last one named is the culprit of a crash */
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every regular file of a folder, in name order; the count, or -1. */
static int run_folder(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        perror(dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    int count = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        char **more = realloc(names, (n + 1) * sizeof *names);
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if (more == NULL || (more[n] = malloc(len)) == NULL) {
            fprintf(stderr, "replay: out of memory\n");
            exit(1);
        }
        names = more;
        snprintf(names[n++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (count >= 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            count = run_file(names[i]) == 0 ? count + 1 : -1;
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    int total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        int c = S_ISDIR(st.st_mode) ? run_folder(argv[i]) : run_file(argv[i]) == 0 ? 1 : -1;
        if (c < 0)
            return 1;
        total += c;
    }
    printf("replay: %d inputs, no failure\n", total);
    return total > 0 ? 0 : 1;
}
