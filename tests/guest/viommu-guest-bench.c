/*
 * viommu-guest-bench: guest I/O through the kernel's DMA API, for the
 * "vIOMMU vs no IOMMU" figures (scripts/guest-bench.sh).
 *
 *   viommu-guest-bench [-c CASES] [-m MIB] [-b KIB] [-r RUNS]
 *
 * CASES (comma separated; default: the kernel argument viommu.bench=, else
 * every case whose devices the guest has):
 *   blk     MIB MiB of the first virtio disk without serial "viommu-mq", in KIB
 *           KiB O_DIRECT reads (default 256 MiB, 64 KiB);
 *   blk-mq  the same from the disk with serial "viommu-mq" (several queues, one
 *           iothread each) by one reader process per CPU, each pinned to its CPU
 *           and reading its own part: with no global lock on the IOMMU's hit
 *           path it scales like no-IOMMU does;
 *   nvme    the same reads as blk from the first NVMe namespace (QEMU's nvme
 *           device: its queues and PRP lists are DMA through the IOMMU too);
 *   net     MIB/8 MiB sent and then as much received over TCP through the
 *           virtio-net NIC with MAC 52:54:00:76:6e:01 (QEMU user network
 *           10.7.0.0/24), to and from a peer on the host at the address given
 *           by the kernel argument viommu.bench-peer=IP:PORT.
 * Each case runs RUNS times (default 5) and prints
 *   VIOMMU-BENCH: CASE run N SECONDS
 *   VIOMMU-BENCH: CASE median SECONDS MIB_PER_S MIN MAX
 * after one line
 *   VIOMMU-BENCH: domain TYPE            (the first disk's IOMMU default domain, or none)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <endian.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MQ_SERIAL       "viommu-mq"
#define NET_MAC         "52:54:00:76:6e:01"
#define NET_ADDR        "10.7.0.15"     /* in the bench NIC's user network 10.7.0.0/24 */
#define MAX_READERS     8

static long opt_mib = 256, opt_kib = 64, opt_runs = 5;

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

/* The first line of a sysfs file into out ("" if there is none). */
static void read_line(const char *path, char *out, size_t len)
{
    FILE *f = fopen(path, "r");

    out[0] = 0;
    if (f) {
        if (fgets(out, len, f)) {
            out[strcspn(out, "\n")] = 0;
        }
        fclose(f);
    }
}

/* The IOMMU default domain type of block device NAME, or "none". */
static void domain_type(const char *name, char *out, size_t len)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "/sys/block/%s/device/../iommu_group/type", name);
    read_line(path, out, len);
    if (!out[0]) {
        snprintf(out, len, "none");
    }
}

/* /dev/vdX of the first virtio disk whose serial is (mq) or is not (!mq) MQ_SERIAL. */
static bool find_disk(bool mq, char *dev, size_t len)
{
    DIR *d = opendir("/sys/block");
    struct dirent *e;
    bool found = false;

    while (d && !found && (e = readdir(d))) {
        char path[PATH_MAX], serial[64];

        if (strncmp(e->d_name, "vd", 2)) {
            continue;
        }
        snprintf(path, sizeof(path), "/sys/block/%s/serial", e->d_name);
        read_line(path, serial, sizeof(serial));
        if (!strcmp(serial, MQ_SERIAL) == mq) {
            snprintf(dev, len, "/dev/%s", e->d_name);
            found = true;
        }
    }
    if (d) {
        closedir(d);
    }
    return found;
}

/* /dev/nvme0n1 if the guest has it. */
static bool find_nvme(char *dev, size_t len)
{
    snprintf(dev, len, "/dev/nvme0n1");
    return access("/sys/block/nvme0n1", F_OK) == 0;
}

/* The interface whose MAC address is mac, or "" */
static void find_netif(const char *mac, char *name, size_t len)
{
    DIR *d = opendir("/sys/class/net");
    struct dirent *e;

    name[0] = 0;
    while (d && !name[0] && (e = readdir(d))) {
        char path[PATH_MAX], addr[32];

        snprintf(path, sizeof(path), "/sys/class/net/%s/address", e->d_name);
        read_line(path, addr, sizeof(addr));
        if (!strcmp(addr, mac)) {
            snprintf(name, len, "%s", e->d_name);
        }
    }
    if (d) {
        closedir(d);
    }
}

/* Read bytes [off, off + len) of fd in opt_kib pieces; 0 or -1 (printed). */
static int read_range(int fd, void *buf, off_t off, long len)
{
    long piece = opt_kib * 1024;

    for (long done = 0; done < len; done += piece) {
        ssize_t got = pread(fd, buf, piece, off + done);

        if (got != piece) {
            printf("VIOMMU-BENCH: error read at %lld KiB: %s\n", (long long)(off + done) / 1024,
                   got < 0 ? strerror(errno) : "short read (disk too small?)");
            return -1;
        }
    }
    return 0;
}

static void *io_buffer(void)
{
    void *buf = mmap(NULL, opt_kib * 1024, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

    return buf == MAP_FAILED ? NULL : buf;
}

/* One run of each case: its wall time in seconds, or < 0 on error (printed). */
typedef double RunFn(const char *dev, long mib);

static double run_blk(const char *dev, long mib)
{
    int fd = open(dev, O_RDONLY | O_DIRECT);
    void *buf = io_buffer();
    double t0 = now_s(), t = -1;

    if (fd < 0 || !buf) {
        printf("VIOMMU-BENCH: error open %s: %s\n", dev, strerror(errno));
    } else if (!read_range(fd, buf, 0, mib << 20)) {
        t = now_s() - t0;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (buf) {
        munmap(buf, opt_kib * 1024);
    }
    return t;
}

static double run_blk_mq(const char *dev, long mib)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    pid_t pid[MAX_READERS];
    double t0;
    bool ok = true;

    ncpu = ncpu < 1 ? 1 : ncpu > MAX_READERS ? MAX_READERS : ncpu;
    if ((mib << 20) % (ncpu * opt_kib * 1024)) {
        printf("VIOMMU-BENCH: error %ld MiB is not a multiple of %ld readers' pieces\n", mib, ncpu);
        return -1;
    }
    t0 = now_s();
    for (long i = 0; i < ncpu; i++) {
        pid[i] = fork();
        if (pid[i] == 0) {
            long part = (mib << 20) / ncpu;
            int fd = open(dev, O_RDONLY | O_DIRECT);
            void *buf = io_buffer();
            cpu_set_t set;

            CPU_ZERO(&set);
            CPU_SET(i, &set);
            sched_setaffinity(0, sizeof(set), &set);
            _exit(fd < 0 || !buf || read_range(fd, buf, i * part, part) ? 1 : 0);
        }
        ok &= pid[i] > 0;
    }
    for (long i = 0; i < ncpu; i++) {
        int st = 1;

        if (pid[i] > 0 && (waitpid(pid[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))) {
            ok = false;
        }
    }
    if (!ok) {
        printf("VIOMMU-BENCH: error a reader of %s failed\n", dev);
        return -1;
    }
    return now_s() - t0;
}

/* Give interface name address addr/24 and bring it up; 0 or -1. */
static int netif_up(const char *name, const char *addr)
{
    struct ifreq ifr = { 0 };
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), rc = -1;

    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    sin->sin_family = AF_INET;
    if (fd < 0 || inet_pton(AF_INET, addr, &sin->sin_addr) != 1 ||
        ioctl(fd, SIOCSIFADDR, &ifr) < 0) {
        goto out;
    }
    inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
    if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
        goto out;
    }
    ifr.ifr_flags |= IFF_UP;
    rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
out:
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

static int xfer_all(int fd, unsigned char *buf, size_t buflen, long len, bool send_it)
{
    while (len > 0) {
        size_t n = (size_t)len < buflen ? (size_t)len : buflen;
        ssize_t r = send_it ? send(fd, buf, n, 0) : recv(fd, buf, n, 0);

        if (r <= 0) {
            if (r < 0 && errno == EINTR) {
                continue;
            }
            return -1;
        }
        len -= r;
    }
    return 0;
}

/*
 * One TCP connection to scripts/guest-bench.sh's peer on the host (through
 * QEMU's user-mode network: the NIC's gateway forwards to the host): send mib
 * MiB, which the peer acknowledges with one byte once it has all of them, then
 * receive mib MiB from it.  Both directions of virtio-net DMA, with the same
 * (slirp) cost on every configuration.
 */
static double run_net(const char *peer, long mib)
{
    static unsigned char buf[256 << 10];
    struct sockaddr_in sa = { .sin_family = AF_INET };
    char host[64];
    unsigned port = 0;
    uint64_t hdr = htobe64((uint64_t)mib << 20);
    double t0, t = -1;
    int fd = -1;

    if (sscanf(peer, "%63[^:]:%u", host, &port) != 2 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        printf("VIOMMU-BENCH: error net: bad peer '%s'\n", peer);
        return -1;
    }
    sa.sin_port = htons(port);
    memset(buf, 0x5a, sizeof(buf));
    t0 = now_s();
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        xfer_all(fd, (unsigned char *)&hdr, sizeof(hdr), sizeof(hdr), true) ||
        xfer_all(fd, buf, sizeof(buf), mib << 20, true) ||
        xfer_all(fd, buf, 1, 1, false) ||
        xfer_all(fd, buf, sizeof(buf), mib << 20, false)) {
        printf("VIOMMU-BENCH: error net: %s\n", strerror(errno));
    } else {
        t = now_s() - t0;
    }
    if (fd >= 0) {
        close(fd);
    }
    return t;
}

/* Runs of fn(dev, mib); its rate is moved MiB (what crossed the DMA path) per second. */
static int run_case(const char *name, RunFn *fn, const char *dev, long mib, long moved)
{
    double *t = calloc(opt_runs, sizeof(*t));

    if (!t) {
        return 1;
    }
    for (long r = 0; r < opt_runs; r++) {
        t[r] = fn(dev, mib);
        if (t[r] < 0) {
            free(t);
            return 1;
        }
        printf("VIOMMU-BENCH: %s run %ld %.4f\n", name, r + 1, t[r]);
    }
    qsort(t, opt_runs, sizeof(*t), cmp_double);
    printf("VIOMMU-BENCH: %s median %.4f %.1f %.4f %.4f\n", name, t[opt_runs / 2],
           moved / t[opt_runs / 2], t[0], t[opt_runs - 1]);
    free(t);
    return 0;
}

/* The value of kernel argument key= into out, or "" */
static void kernel_arg(const char *key, char *out, size_t len)
{
    char cmdline[4096], *p;
    size_t klen = strlen(key);

    out[0] = 0;
    read_line("/proc/cmdline", cmdline, sizeof(cmdline));
    for (p = strtok(cmdline, " "); p; p = strtok(NULL, " ")) {
        if (!strncmp(p, key, klen) && p[klen] == '=') {
            snprintf(out, len, "%s", p + klen + 1);
        }
    }
}

static bool wanted(const char *cases, const char *name)
{
    char list[256], *p, *save;

    if (!cases[0]) {
        return true;
    }
    snprintf(list, sizeof(list), "%s", cases);
    for (p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        if (!strcmp(p, name)) {
            return true;
        }
    }
    return false;
}

int main(int argc, char **argv)
{
    char cases[256] = "", dev[64], mqdev[64], nvdev[64], dom[64], netif[IFNAMSIZ], peer[64];
    bool have_mq, have_nvme, have_net;
    int opt, failed = 0;

    kernel_arg("viommu.bench", cases, sizeof(cases));
    while ((opt = getopt(argc, argv, "c:m:b:r:")) != -1) {
        switch (opt) {
        case 'c': snprintf(cases, sizeof(cases), "%s", optarg); break;
        case 'm': opt_mib = atol(optarg); break;
        case 'b': opt_kib = atol(optarg); break;
        case 'r': opt_runs = atol(optarg); break;
        default:
            fprintf(stderr, "usage: viommu-guest-bench [-c CASES] [-m MIB] [-b KIB] [-r RUNS]\n");
            return 2;
        }
    }
    if (opt_mib <= 0 || opt_kib <= 0 || opt_runs <= 0 || (opt_mib * 1024) % opt_kib) {
        fprintf(stderr, "bad sizes\n");
        return 2;
    }
    if (!find_disk(false, dev, sizeof(dev))) {
        printf("VIOMMU-BENCH: error no virtio disk\n");
        return 1;
    }
    domain_type(strrchr(dev, '/') + 1, dom, sizeof(dom));
    printf("VIOMMU-BENCH: domain %s\n", dom);

    have_mq = find_disk(true, mqdev, sizeof(mqdev));
    have_nvme = find_nvme(nvdev, sizeof(nvdev));
    find_netif(NET_MAC, netif, sizeof(netif));
    kernel_arg("viommu.bench-peer", peer, sizeof(peer));
    have_net = netif[0] && peer[0];

    /* A case asked for by name but without its devices is an error, not a skip. */
    if (wanted(cases, "blk")) {
        failed |= run_case("blk", run_blk, dev, opt_mib, opt_mib);
    }
    if (cases[0] ? wanted(cases, "blk-mq") : have_mq) {
        failed |= have_mq ? run_case("blk-mq", run_blk_mq, mqdev, opt_mib, opt_mib) :
                  (printf("VIOMMU-BENCH: error no disk with serial %s\n", MQ_SERIAL), 1);
    }
    if (cases[0] ? wanted(cases, "nvme") : have_nvme) {
        failed |= have_nvme ? run_case("nvme", run_blk, nvdev, opt_mib, opt_mib) :
                  (printf("VIOMMU-BENCH: error no NVMe namespace\n"), 1);
    }
    if (cases[0] ? wanted(cases, "net") : have_net) {
        if (!have_net || netif_up(netif, NET_ADDR)) {
            printf("VIOMMU-BENCH: error no NIC %s (%s) or no viommu.bench-peer (%s)\n", NET_MAC,
                   netif, peer);
            failed = 1;
        } else {
            failed |= run_case("net", run_net, peer, opt_mib / 8, opt_mib / 4);
        }
    }
    return failed;
}
