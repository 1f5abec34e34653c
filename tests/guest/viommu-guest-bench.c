/*
 * viommu-guest-bench: guest I/O through the kernel's DMA API, for the
 * "vIOMMU vs no IOMMU" figures (scripts/guest-bench.sh).
 *
 *   viommu-guest-bench [-d DEV] [-m MIB] [-b KIB] [-r RUNS]
 *
 * Reads MIB MiB (default 256) of DEV (default: the first virtio disk) with
 * KIB KiB (default 64) O_DIRECT reads, RUNS times (default 5), and prints
 *   VIOMMU-BENCH: run N SECONDS
 *   VIOMMU-BENCH: domain TYPE            (the disk's IOMMU default domain, or none)
 *   VIOMMU-BENCH: median SECONDS MIB_PER_S
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The IOMMU default domain type of block device NAME, or "none". */
static void domain_type(const char *name, char *out, size_t len)
{
    char path[PATH_MAX];
    FILE *f;

    snprintf(out, len, "none");
    snprintf(path, sizeof(path), "/sys/block/%s/device/../iommu_group/type", name);
    f = fopen(path, "r");
    if (f) {
        if (fgets(out, len, f)) {
            out[strcspn(out, "\n")] = 0;
        }
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    const char *dev = NULL;
    char devbuf[64], dom[64];
    long mib = 256, kib = 64, runs = 5;
    double *t;
    void *buf;
    int opt, fd;

    while ((opt = getopt(argc, argv, "d:m:b:r:")) != -1) {
        switch (opt) {
        case 'd': dev = optarg; break;
        case 'm': mib = atol(optarg); break;
        case 'b': kib = atol(optarg); break;
        case 'r': runs = atol(optarg); break;
        default:
            fprintf(stderr, "usage: viommu-guest-bench [-d DEV] [-m MIB] [-b KIB] [-r RUNS]\n");
            return 2;
        }
    }
    if (mib <= 0 || kib <= 0 || runs <= 0 || (mib * 1024) % kib) {
        fprintf(stderr, "bad sizes\n");
        return 2;
    }
    if (!dev) {
        DIR *d = opendir("/sys/block");
        struct dirent *e;

        while (d && (e = readdir(d))) {
            if (!strncmp(e->d_name, "vd", 2)) {
                snprintf(devbuf, sizeof(devbuf), "/dev/%s", e->d_name);
                dev = devbuf;
                break;
            }
        }
        if (d) {
            closedir(d);
        }
        if (!dev) {
            printf("VIOMMU-BENCH: error no virtio disk\n");
            return 1;
        }
    }
    domain_type(strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev, dom, sizeof(dom));
    printf("VIOMMU-BENCH: domain %s\n", dom);

    fd = open(dev, O_RDONLY | O_DIRECT);
    buf = mmap(NULL, kib * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    t = calloc(runs, sizeof(*t));
    if (fd < 0 || buf == MAP_FAILED || !t) {
        printf("VIOMMU-BENCH: error open %s: %s\n", dev, strerror(errno));
        return 1;
    }
    for (long r = 0; r < runs; r++) {
        long n = mib * 1024 / kib;
        double t0 = now_s();

        for (long i = 0; i < n; i++) {
            ssize_t got = pread(fd, buf, kib * 1024, (off_t)i * kib * 1024);
            if (got != kib * 1024) {
                printf("VIOMMU-BENCH: error read at %ld KiB: %s\n", i * kib,
                       got < 0 ? strerror(errno) : "short read (disk too small?)");
                return 1;
            }
        }
        t[r] = now_s() - t0;
        printf("VIOMMU-BENCH: run %ld %.4f\n", r + 1, t[r]);
    }
    qsort(t, runs, sizeof(*t), cmp_double);
    printf("VIOMMU-BENCH: median %.4f %.1f\n", t[runs / 2], mib / t[runs / 2]);
    return 0;
}
