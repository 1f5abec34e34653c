/*
 * viommu-guest-test: the guest side of the qemu-viommu guest suite.
 *
 * Runs inside a Linux guest (static, no libraries beyond libc) and drives
 * viommu-testdev (PCI 1234:5669) through the iommufd + VFIO cdev uAPI:
 * the device is bound to vfio-pci, its DMA engine copies/fills/compares
 * buffers at IOVAs this program maps, and every subtest checks the data.
 *
 *   viommu-guest-test [-d BDF] [-v] [-c ours|reference] [TEST...]
 *   viommu-guest-test -l                          list the subtests
 *
 * TEST is a number or a name.  -c says which kind of column this run is:
 * "ours" (the default: a qemu-viommu vIOMMU, which must do everything the
 * suite tests, so a skip or a partial pass is a failure) or "reference" (an
 * upstream vIOMMU, which may lack features: the test skips, naming the
 * kernel's answer, or passes with a note saying which part could not run).
 *
 * Each subtest runs in its own child process under a timeout and prints one
 * machine-readable line on stdout (a subtest whose tests[].on leaves out the
 * IOMMU in front of the device is not run and prints none):
 *   VIOMMU-TEST: ok N name
 *   VIOMMU-TEST: ok N name # note            (reference columns only)
 *   VIOMMU-TEST: ok N name # SKIP reason     (reference columns only)
 *   VIOMMU-TEST: not ok N name # reason
 * and the run ends with
 *   VIOMMU-TEST: done P passed F failed S skipped
 * Around each subtest it writes "viommu-guest-test: begin N name" and
 * "... end N name" to /dev/kmsg, so the host can tell which subtest a kernel
 * message (an IOMMU fault, a WARNING) belongs to.
 * Diagnostics go to stdout as lines starting with "# ".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <linux/pci_regs.h>

#include "hw/viommu/testdev-regs.h"
#include "pt-builder.h"
#include "viommu-testdev-sva.h"

/* ------------------------------------------------------------------------ */
/* Results and diagnostics                                                   */

/*
 * T_PARTIAL: the subtest passed but could not run all of its parts (the
 * reason says which); like T_SKIP it is a failure on our own vIOMMUs.
 */
enum { T_PASS = 0, T_FAIL = 1, T_SKIP = 77, T_PARTIAL = 78 };

static bool verbose;
static bool ours = true;            /* -c ours (default) or -c reference */
static int result_fd = -1;          /* child -> parent: the reason line */
static char result_reason[512];

static void diag(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if (n > (int)sizeof(buf) - 2) {
        n = sizeof(buf) - 2;
    }
    buf[n++] = '\n';
    /* One write per line so the serial console never interleaves our lines. */
    if (write(STDOUT_FILENO, "# ", 2) < 0 || write(STDOUT_FILENO, buf, n) < 0) {
        /* nothing sensible to do */
    }
}

#define vdiag(...) do { if (verbose) diag(__VA_ARGS__); } while (0)

/* Record why the subtest ends (the first reason wins) and return the code. */
static int outcome(int code, const char *fmt, ...)
{
    va_list ap;

    if (!result_reason[0]) {
        va_start(ap, fmt);
        vsnprintf(result_reason, sizeof(result_reason), fmt, ap);
        va_end(ap);
    }
    return code;
}

#define FAIL(...) outcome(T_FAIL, __VA_ARGS__)
#define SKIP(...) outcome(T_SKIP, __VA_ARGS__)
#define PARTIAL(...) outcome(T_PARTIAL, __VA_ARGS__)

/* Check a condition; on failure record the reason and leave the subtest. */
#define CHECK(cond, ...) do {                                               \
        if (!(cond)) {                                                      \
            diag("check failed at line %d: %s", __LINE__, #cond);           \
            return FAIL(__VA_ARGS__);                                       \
        }                                                                   \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int write_file(const char *path, const char *val)
{
    int fd = open(path, O_WRONLY);
    ssize_t n;

    if (fd < 0) {
        return -errno;
    }
    n = write(fd, val, strlen(val));
    if (n < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    close(fd);
    return 0;
}

static int read_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    ssize_t n;

    if (fd < 0) {
        return -errno;
    }
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0) {
        return -errno;
    }
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) {
        buf[--n] = 0;
    }
    return 0;
}

/* Deterministic bytes for buffers: xorshift64* from a seed. */
static void fill_random(void *p, size_t len, uint64_t seed)
{
    uint8_t *b = p;
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

    for (size_t i = 0; i < len; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        b[i] = (uint8_t)((x * 0x2545f4914f6cdd1dull) >> 56);
    }
}

/* FNV-1a, 64 bit: what TD_OP_CHECKSUM computes. */
static uint64_t fnv1a64(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Page-aligned anonymous buffer, populated. */
static void *alloc_buf(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static const char *errname(int e)
{
    switch (e) {
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    case EBUSY: return "EBUSY";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EIO: return "EIO";
    case ENOMEM: return "ENOMEM";
    case EFAULT: return "EFAULT";
    case ENOSPC: return "ENOSPC";
    case ENOTTY: return "ENOTTY";
    case EEXIST: return "EEXIST";
    case EACCES: return "EACCES";
    case ERANGE: return "ERANGE";
    default: return "errno";
    }
}

/* "IOCTL: -EXXX (n, text)" for reasons. */
static const char *ioctl_err(const char *what, int e)
{
    static char buf[4][160];
    static int slot;
    char *b = buf[slot++ & 3];

    snprintf(b, sizeof(buf[0]), "%s: -%s (%d, %s)", what, errname(e), e, strerror(e));
    return b;
}

/*
 * A feature step the kernel refused with R.  -EOPNOTSUPP and -ENODEV are how
 * iommufd and the drivers say "this IOMMU cannot": a skip, which run_one turns
 * into a failure on our own vIOMMUs.  Any other answer is a failure anywhere.
 */
static int unsupported(int r, const char *fmt, ...)
{
    char buf[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return outcome(r == -EOPNOTSUPP || r == -ENODEV ? T_SKIP : T_FAIL, "%s", buf);
}

/* ------------------------------------------------------------------------ */
/* The device: sysfs, vfio-pci, iommufd                                      */

static char dev_bdf[64];

static int find_testdev(char *bdf, size_t len)
{
    DIR *d = opendir("/sys/bus/pci/devices");
    struct dirent *e;
    char path[PATH_MAX], v[32], dv[32];
    int found = -ENODEV;

    if (!d) {
        return -errno;
    }
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", e->d_name);
        if (read_file(path, v, sizeof(v))) {
            continue;
        }
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", e->d_name);
        if (read_file(path, dv, sizeof(dv))) {
            continue;
        }
        if (strtoul(v, NULL, 16) == VIOMMU_TESTDEV_VENDOR_ID &&
            strtoul(dv, NULL, 16) == VIOMMU_TESTDEV_DEVICE_ID) {
            snprintf(bdf, len, "%s", e->d_name);
            found = 0;
            break;
        }
    }
    closedir(d);
    return found;
}

/* Bind BDF to the PCI driver DRV (driver_override + drivers_probe); idempotent. */
static int bind_pci_driver(const char *bdf, const char *drv, char *why, size_t wlen)
{
    char path[PATH_MAX], link[PATH_MAX];
    ssize_t n;
    int r;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
    n = readlink(path, link, sizeof(link) - 1);
    if (n > 0) {
        char want[80];

        link[n] = 0;
        snprintf(want, sizeof(want), "/%s", drv);
        if (strlen(link) >= strlen(want) && !strcmp(link + strlen(link) - strlen(want), want)) {
            return 0;
        }
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
        r = write_file(path, bdf);
        if (r) {
            snprintf(why, wlen, "unbinding %s from %s: %s", bdf, link, strerror(-r));
            return r;
        }
    }
    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
    r = write_file(path, drv);
    if (r) {
        snprintf(why, wlen, "writing %s: %s", path, strerror(-r));
        return r;
    }
    r = write_file("/sys/bus/pci/drivers_probe", bdf);
    if (r) {
        snprintf(why, wlen, "drivers_probe %s: %s (is the device in an IOMMU group?)",
                 bdf, strerror(-r));
        return r;
    }
    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
    n = readlink(path, link, sizeof(link) - 1);
    if (n <= 0) {
        snprintf(why, wlen, "%s did not bind %s (no IOMMU group?)", drv, bdf);
        return -ENODEV;
    }
    return 0;
}

static int bind_vfio_pci(const char *bdf, char *why, size_t wlen)
{
    return bind_pci_driver(bdf, "vfio-pci", why, wlen);
}

static int vfio_cdev_path(const char *bdf, char *out, size_t len)
{
    char path[PATH_MAX];
    DIR *d;
    struct dirent *e;
    int r = -ENOENT;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
    d = opendir(path);
    if (!d) {
        return -errno;
    }
    while ((e = readdir(d))) {
        if (!strncmp(e->d_name, "vfio", 4)) {
            snprintf(out, len, "/dev/vfio/devices/%s", e->d_name);
            r = 0;
            break;
        }
    }
    closedir(d);
    return r;
}

struct dev {
    int iommufd;
    int devfd;
    uint32_t devid;
    volatile uint32_t *bar0;        /* mmap of BAR0, or NULL: use pread/pwrite */
    uint64_t bar0_off;
    uint64_t cfg_off;
    /* from IOMMU_GET_HW_INFO */
    uint32_t hw_type;
    uint8_t max_pasid_log2;
    uint64_t hw_caps;
    union {
        struct iommu_hw_info_arm_smmuv3 smmu;
        struct iommu_hw_info_vtd vtd;
        uint8_t raw[256];
    } hw;
};

static uint32_t rd(struct dev *d, uint32_t off)
{
    uint32_t v;

    if (d->bar0) {
        v = d->bar0[off / 4];
        __sync_synchronize();
        return v;
    }
    if (pread(d->devfd, &v, 4, d->bar0_off + off) != 4) {
        diag("BAR0 read at 0x%x failed: %s", off, strerror(errno));
        return ~0u;
    }
    return v;
}

static void wr(struct dev *d, uint32_t off, uint32_t v)
{
    __sync_synchronize();
    if (d->bar0) {
        d->bar0[off / 4] = v;
        __sync_synchronize();
        return;
    }
    if (pwrite(d->devfd, &v, 4, d->bar0_off + off) != 4) {
        diag("BAR0 write at 0x%x failed: %s", off, strerror(errno));
    }
}

static int cfg_read(struct dev *d, uint32_t off, void *v, size_t len)
{
    return pread(d->devfd, v, len, d->cfg_off + off) == (ssize_t)len ? 0 : -errno;
}

static int cfg_write(struct dev *d, uint32_t off, const void *v, size_t len)
{
    return pwrite(d->devfd, v, len, d->cfg_off + off) == (ssize_t)len ? 0 : -errno;
}

static int region_info(struct dev *d, uint32_t index, struct vfio_region_info *ri)
{
    memset(ri, 0, sizeof(*ri));
    ri->argsz = sizeof(*ri);
    ri->index = index;
    return ioctl(d->devfd, VFIO_DEVICE_GET_REGION_INFO, ri) ? -errno : 0;
}

/*
 * Open /dev/iommu and the device's VFIO cdev, bind them, map BAR0 and enable
 * memory decoding and bus mastering.  Leaves the device unattached.
 */
static int dev_open(struct dev *d)
{
    char why[256] = "", cdev[PATH_MAX];
    struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
    struct vfio_region_info ri;
    uint16_t cmd;
    int r;

    memset(d, 0, sizeof(*d));
    d->iommufd = d->devfd = -1;
    if (!dev_bdf[0] && find_testdev(dev_bdf, sizeof(dev_bdf))) {
        return FAIL("no PCI device %04x:%04x (viommu-testdev) in /sys/bus/pci/devices",
                    VIOMMU_TESTDEV_VENDOR_ID, VIOMMU_TESTDEV_DEVICE_ID);
    }
    if (bind_vfio_pci(dev_bdf, why, sizeof(why))) {
        return FAIL("%s", why);
    }
    r = vfio_cdev_path(dev_bdf, cdev, sizeof(cdev));
    if (r) {
        return FAIL("no vfio-dev/vfioN under %s: %s (CONFIG_VFIO_DEVICE_CDEV?)",
                    dev_bdf, strerror(-r));
    }
    d->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
    if (d->iommufd < 0) {
        return FAIL("open /dev/iommu: %s", strerror(errno));
    }
    d->devfd = open(cdev, O_RDWR | O_CLOEXEC);
    if (d->devfd < 0) {
        return FAIL("open %s: %s", cdev, strerror(errno));
    }
    bind.iommufd = d->iommufd;
    if (ioctl(d->devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
        return FAIL("%s", ioctl_err("VFIO_DEVICE_BIND_IOMMUFD", errno));
    }
    d->devid = bind.out_devid;

    struct iommu_hw_info info = {
        .size = sizeof(info), .dev_id = d->devid,
        .data_len = sizeof(d->hw), .data_uptr = (uintptr_t)&d->hw,
    };
    if (ioctl(d->iommufd, IOMMU_GET_HW_INFO, &info) == 0) {
        d->hw_type = info.out_data_type;
        d->max_pasid_log2 = info.out_max_pasid_log2;
        d->hw_caps = info.out_capabilities;
    } else if (ours) {
        /* Our vIOMMUs have drivers that report hardware info. */
        return FAIL("%s", ioctl_err("IOMMU_GET_HW_INFO", errno));
    } else {
        diag("%s", ioctl_err("IOMMU_GET_HW_INFO", errno));
    }
    if (ours && d->hw_type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3 &&
        d->hw_type != IOMMU_HW_INFO_TYPE_INTEL_VTD) {
        return FAIL("IOMMU_GET_HW_INFO type %u: neither ARM_SMMUV3 nor INTEL_VTD", d->hw_type);
    }

    if ((r = region_info(d, VFIO_PCI_CONFIG_REGION_INDEX, &ri))) {
        return FAIL("%s", ioctl_err("VFIO_DEVICE_GET_REGION_INFO(config)", -r));
    }
    d->cfg_off = ri.offset;
    if ((r = region_info(d, VFIO_PCI_BAR0_REGION_INDEX, &ri))) {
        return FAIL("%s", ioctl_err("VFIO_DEVICE_GET_REGION_INFO(BAR0)", -r));
    }
    if (ri.size < VIOMMU_TESTDEV_REG_SIZE) {
        return FAIL("BAR0 is %llu bytes, expected %u", (unsigned long long)ri.size,
                    VIOMMU_TESTDEV_REG_SIZE);
    }
    d->bar0_off = ri.offset;
    if (ri.flags & VFIO_REGION_INFO_FLAG_MMAP) {
        void *p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, d->devfd, ri.offset);
        if (p != MAP_FAILED) {
            d->bar0 = p;
        } else {
            diag("mmap of BAR0 failed (%s), using pread/pwrite", strerror(errno));
        }
    }

    if (cfg_read(d, 4, &cmd, 2)) {
        return FAIL("reading PCI_COMMAND: %s", strerror(errno));
    }
    cmd |= 0x2 | 0x4;           /* Memory Space, Bus Master */
    if (cfg_write(d, 4, &cmd, 2)) {
        return FAIL("writing PCI_COMMAND: %s", strerror(errno));
    }
    if (rd(d, TD_ID) != TD_ID_VALUE) {
        return FAIL("BAR0 ID register reads 0x%08x, expected 0x%08x", rd(d, TD_ID), TD_ID_VALUE);
    }
    wr(d, TD_CMD, TD_CMD_RESET);
    vdiag("device %s bound, devid %u, hw_info type %u, max_pasid_log2 %u, caps 0x%llx, bar0 %s",
          dev_bdf, d->devid, d->hw_type, d->max_pasid_log2, (unsigned long long)d->hw_caps,
          d->bar0 ? "mmap" : "pread");
    return T_PASS;
}

/* ---- iommufd objects ---- */

static int ioas_alloc(struct dev *d, uint32_t *id)
{
    struct iommu_ioas_alloc a = { .size = sizeof(a) };

    if (ioctl(d->iommufd, IOMMU_IOAS_ALLOC, &a)) {
        return -errno;
    }
    *id = a.out_ioas_id;
    return 0;
}

#define MAP_RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

static int ioas_map(struct dev *d, uint32_t ioas, void *va, uint64_t len, uint64_t iova,
                    uint32_t prot)
{
    struct iommu_ioas_map m = {
        .size = sizeof(m), .flags = IOMMU_IOAS_MAP_FIXED_IOVA | prot, .ioas_id = ioas,
        .user_va = (uintptr_t)va, .length = len, .iova = iova,
    };

    return ioctl(d->iommufd, IOMMU_IOAS_MAP, &m) ? -errno : 0;
}

static int ioas_unmap(struct dev *d, uint32_t ioas, uint64_t iova, uint64_t len)
{
    struct iommu_ioas_unmap u = { .size = sizeof(u), .ioas_id = ioas, .iova = iova, .length = len };

    return ioctl(d->iommufd, IOMMU_IOAS_UNMAP, &u) ? -errno : 0;
}

/* Is [iova, iova+len) inside one allowed range of the IOAS? */
static int ioas_check_range(struct dev *d, uint32_t ioas, uint64_t iova, uint64_t len)
{
    struct iommu_iova_range r[32];
    struct iommu_ioas_iova_ranges q = {
        .size = sizeof(q), .ioas_id = ioas, .num_iovas = 32, .allowed_iovas = (uintptr_t)r,
    };

    if (ioctl(d->iommufd, IOMMU_IOAS_IOVA_RANGES, &q)) {
        return -errno;
    }
    for (uint32_t i = 0; i < q.num_iovas && i < 32; i++) {
        if (iova >= r[i].start && iova + len - 1 <= r[i].last) {
            return 0;
        }
    }
    return -ERANGE;
}

static int hwpt_alloc(struct dev *d, uint32_t flags, uint32_t pt_id, uint32_t type,
                      void *data, uint32_t data_len, uint32_t *out)
{
    struct iommu_hwpt_alloc a = {
        .size = sizeof(a), .flags = flags, .dev_id = d->devid, .pt_id = pt_id,
        .data_type = type, .data_len = data_len, .data_uptr = (uintptr_t)data,
    };

    if (ioctl(d->iommufd, IOMMU_HWPT_ALLOC, &a)) {
        return -errno;
    }
    *out = a.out_hwpt_id;
    return 0;
}

static int attach(struct dev *d, uint32_t pt_id)
{
    struct vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a), .pt_id = pt_id };

    return ioctl(d->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a) ? -errno : 0;
}

static int attach_pasid(struct dev *d, uint32_t pasid, uint32_t pt_id)
{
    struct vfio_device_attach_iommufd_pt a = {
        .argsz = sizeof(a), .flags = VFIO_DEVICE_ATTACH_PASID, .pt_id = pt_id, .pasid = pasid,
    };

    return ioctl(d->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a) ? -errno : 0;
}

static int detach_pasid(struct dev *d, uint32_t pasid)
{
    struct vfio_device_detach_iommufd_pt a = {
        .argsz = sizeof(a), .flags = VFIO_DEVICE_DETACH_PASID, .pasid = pasid,
    };

    return ioctl(d->devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &a) ? -errno : 0;
}

static int hwpt_invalidate(struct dev *d, uint32_t id, uint32_t type, void *ent,
                           uint32_t len, uint32_t num, uint32_t *done)
{
    struct iommu_hwpt_invalidate inv = {
        .size = sizeof(inv), .hwpt_id = id, .data_uptr = (uintptr_t)ent,
        .data_type = type, .entry_len = len, .entry_num = num,
    };
    int r = ioctl(d->iommufd, IOMMU_HWPT_INVALIDATE, &inv) ? -errno : 0;

    if (done) {
        *done = inv.entry_num;
    }
    return r;
}

/* ---- DMA through the test device ---- */

struct dma_result {
    uint32_t status, error;
    uint64_t result, fault_addr;
};

#define DMA_TIMEOUT_NS (10ull * 1000000000ull)

/* Start one operation that completes DELAY_NS of virtual time after GO. */
static void dma_start_delayed(struct dev *d, uint32_t op, uint64_t src, uint64_t dst, uint32_t len,
                              uint32_t pattern, uint32_t pasid, uint32_t irq, uint32_t delay_ns)
{
    wr(d, TD_SRC_LO, (uint32_t)src);
    wr(d, TD_SRC_HI, (uint32_t)(src >> 32));
    wr(d, TD_DST_LO, (uint32_t)dst);
    wr(d, TD_DST_HI, (uint32_t)(dst >> 32));
    wr(d, TD_LEN, len);
    wr(d, TD_OP, op);
    wr(d, TD_PATTERN, pattern);
    wr(d, TD_PASID, pasid);
    wr(d, TD_IRQ, irq);
    wr(d, TD_DELAY_NS, delay_ns);
    wr(d, TD_CMD, TD_CMD_GO);
}

static void dma_start(struct dev *d, uint32_t op, uint64_t src, uint64_t dst, uint32_t len,
                      uint32_t pattern, uint32_t pasid, uint32_t irq)
{
    dma_start_delayed(d, op, src, dst, len, pattern, pasid, irq, 0);
}

static int dma_wait(struct dev *d, struct dma_result *res)
{
    uint64_t deadline = now_ns() + DMA_TIMEOUT_NS;
    uint32_t st;

    for (;;) {
        st = rd(d, TD_STATUS);
        if (!(st & TD_STATUS_BUSY) && (st & TD_STATUS_DONE)) {
            break;
        }
        if (now_ns() > deadline) {
            wr(d, TD_CMD, TD_CMD_RESET);
            return -ETIMEDOUT;
        }
        if (!(st & TD_STATUS_BUSY) && !(st & TD_STATUS_DONE)) {
            /* Not started: nothing to wait for. */
            return -EIO;
        }
        sched_yield();
    }
    res->status = st;
    res->error = rd(d, TD_ERROR);
    res->result = rd(d, TD_RESULT_LO) | (uint64_t)rd(d, TD_RESULT_HI) << 32;
    res->fault_addr = rd(d, TD_FAULT_ADDR_LO) | (uint64_t)rd(d, TD_FAULT_ADDR_HI) << 32;
    __sync_synchronize();
    return 0;
}

static int dma(struct dev *d, uint32_t op, uint64_t src, uint64_t dst, uint32_t len,
               uint32_t pattern, uint32_t pasid, struct dma_result *res)
{
    dma_start(d, op, src, dst, len, pattern, pasid, 0);
    return dma_wait(d, res);
}

static const char *td_err_name(uint32_t e)
{
    static const char *n[] = {
        "NONE", "BAD_LEN", "BAD_OP", "READ_FAULT", "WRITE_FAULT", "NO_BUS_MASTER",
        "PASID_DISABLED", "NO_PASID_PATH", "BAD_VECTOR", "ADDR_WRAP", "NO_PRI_PATH",
        "PRI_DENIED", "PRI_FAILURE", "PRI_LIMIT", "ATS_DISABLED", "NO_ATS_PATH", "ATS_UR",
        "ATS_CA",
    };
    return e < sizeof(n) / sizeof(n[0]) ? n[e] : "?";
}

/* A DMA that must succeed. */
#define DMA_OK(d, op, src, dst, len, pat, pasid, res, what) do {                    \
        int r_ = dma(d, op, src, dst, len, pat, pasid, res);                        \
        CHECK(r_ == 0, "%s: device did not complete (%s)", what, strerror(-r_));    \
        CHECK(!((res)->status & TD_STATUS_ERROR),                                   \
              "%s: device error %s at 0x%" PRIx64, what,                            \
              td_err_name((res)->error), (res)->fault_addr);                        \
        vdiag("%s: 0x%" PRIx64 " -> 0x%" PRIx64 ", %u bytes%s: done",                \
              what, (uint64_t)(src), (uint64_t)(dst), (unsigned)(len),              \
              (pasid) ? " (PASID-tagged)" : "");                                    \
    } while (0)

/* A DMA that must fail with error ERR at an address inside [lo, hi). */
#define DMA_FAULT(d, op, src, dst, len, pat, pasid, res, err, lo, hi, what) do {    \
        int r_ = dma(d, op, src, dst, len, pat, pasid, res);                        \
        CHECK(r_ == 0, "%s: device did not complete (%s)", what, strerror(-r_));    \
        CHECK((res)->status & TD_STATUS_ERROR,                                      \
              "%s: DMA succeeded, expected %s", what, td_err_name(err));            \
        CHECK((res)->error == (err), "%s: device error %s, expected %s", what,      \
              td_err_name((res)->error), td_err_name(err));                         \
        CHECK((res)->fault_addr >= (lo) && (res)->fault_addr < (hi),                \
              "%s: fault address 0x%" PRIx64 " outside [0x%" PRIx64 ", 0x%" PRIx64 ")", \
              what, (res)->fault_addr, (uint64_t)(lo), (uint64_t)(hi));             \
        vdiag("%s: refused as expected, device error %s at 0x%" PRIx64,            \
              what, td_err_name((res)->error), (res)->fault_addr);                  \
    } while (0)

/* ------------------------------------------------------------------------ */
/* IOVA layout used by every subtest                                          */

#define BUF_LEN         (64 * 1024)
#define IOVA_SRC        0x10000000ull
#define IOVA_DST        0x10100000ull
#define IOVA_AUX        0x10200000ull
#define IOVA_HOLE       0x10300000ull       /* never mapped */
#define IOVA_TABLES     0x10400000ull       /* nested: stage-1 tables + CD */
#define TABLES_LEN      (64 * 1024)

/* Stage-1 virtual addresses used by the nested tests */
#define VA_SRC          0x40000000ull
#define VA_DST          0x40010000ull
#define VA_AUX          0x40020000ull
#define VA_HOLE         0x40100000ull

struct bufs {
    uint8_t *src, *dst, *aux;
};

static int bufs_alloc(struct bufs *b)
{
    b->src = alloc_buf(BUF_LEN);
    b->dst = alloc_buf(BUF_LEN);
    b->aux = alloc_buf(BUF_LEN);
    return b->src && b->dst && b->aux ? 0 : -ENOMEM;
}

static int map_bufs(struct dev *d, uint32_t ioas, struct bufs *b)
{
    int r;

    if ((r = ioas_map(d, ioas, b->src, BUF_LEN, IOVA_SRC, MAP_RW)) ||
        (r = ioas_map(d, ioas, b->dst, BUF_LEN, IOVA_DST, MAP_RW)) ||
        (r = ioas_map(d, ioas, b->aux, BUF_LEN, IOVA_AUX, MAP_RW))) {
        return r;
    }
    return 0;
}

/*
 * The paging set-up most subtests start from: the test buffers, an IOAS
 * mapping them at their IOVAs, and the device attached to it (an automatic
 * paging HWPT).  T_PASS, or the failure.
 */
static int paging_attach(struct dev *d, struct bufs *b, uint32_t *ioas)
{
    int r;

    CHECK(bufs_alloc(b) == 0, "out of memory");
    CHECK((r = ioas_alloc(d, ioas)) == 0, "%s", ioctl_err("IOMMU_IOAS_ALLOC", -r));
    CHECK((r = map_bufs(d, *ioas, b)) == 0, "%s", ioctl_err("IOMMU_IOAS_MAP", -r));
    CHECK((r = attach(d, *ioas)) == 0, "%s", ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(ioas)", -r));
    return T_PASS;
}

/* Index of the first byte of p[0..len) that is not v, or -1. */
static long first_not(const uint8_t *p, size_t len, uint8_t v)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != v) {
            return (long)i;
        }
    }
    return -1;
}

static long first_diff(const uint8_t *a, const uint8_t *b, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (a[i] != b[i]) {
            return (long)i;
        }
    }
    return -1;
}

static bool pattern_ok(const uint8_t *p, size_t len, uint32_t pat)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != (uint8_t)(pat >> (8 * (i % 4)))) {
            return false;
        }
    }
    return true;
}

/*
 * The data-path checks shared by the paging, nested and PASID tests: with
 * addresses s (src), t (dst), a (aux) as the device sees them and b the host
 * buffers behind them, copy / fill / compare / checksum must do exactly what
 * the register map says.
 */
static int check_data_path(struct dev *d, struct bufs *b, uint64_t s, uint64_t t,
                           uint32_t pasid, const char *mode)
{
    struct dma_result res;
    char what[96];
    long off;

    fill_random(b->src, BUF_LEN, 1);
    memset(b->dst, 0x5a, BUF_LEN);

    snprintf(what, sizeof(what), "%s copy", mode);
    DMA_OK(d, TD_OP_COPY, s, t, BUF_LEN, 0, pasid, &res, what);
    off = first_diff(b->src, b->dst, BUF_LEN);
    CHECK(off < 0, "%s: destination differs from source at offset %ld", what, off);

    /* Unaligned, crossing pages on both sides. */
    memset(b->dst, 0x5a, BUF_LEN);
    snprintf(what, sizeof(what), "%s unaligned copy", mode);
    DMA_OK(d, TD_OP_COPY, s + 123, t + 4000, 10000, 0, pasid, &res, what);
    off = first_diff(b->src + 123, b->dst + 4000, 10000);
    CHECK(off < 0, "%s: differs at offset %ld", what, off);
    CHECK(first_not(b->dst, 4000, 0x5a) < 0 && first_not(b->dst + 14000, BUF_LEN - 14000, 0x5a) < 0,
          "%s: bytes outside the destination range changed", what);

    snprintf(what, sizeof(what), "%s fill", mode);
    DMA_OK(d, TD_OP_FILL, 0, t, BUF_LEN, 0xc3a5f00du, pasid, &res, what);
    CHECK(pattern_ok(b->dst, BUF_LEN, 0xc3a5f00du), "%s: destination does not hold the pattern", what);

    memcpy(b->dst, b->src, BUF_LEN);
    snprintf(what, sizeof(what), "%s compare (equal)", mode);
    DMA_OK(d, TD_OP_COMPARE, s, t, BUF_LEN, 0, pasid, &res, what);
    CHECK(res.result == TD_COMPARE_EQUAL && !(res.status & TD_STATUS_MISMATCH),
          "%s: result 0x%" PRIx64 " status 0x%x", what, res.result, res.status);
    b->dst[40000] ^= 0xff;
    snprintf(what, sizeof(what), "%s compare (different)", mode);
    DMA_OK(d, TD_OP_COMPARE, s, t, BUF_LEN, 0, pasid, &res, what);
    CHECK(res.result == 40000 && (res.status & TD_STATUS_MISMATCH),
          "%s: result %" PRIu64 " status 0x%x, expected 40000 + MISMATCH", what, res.result,
          res.status);

    snprintf(what, sizeof(what), "%s checksum", mode);
    DMA_OK(d, TD_OP_CHECKSUM, s, 0, BUF_LEN, 0, pasid, &res, what);
    CHECK(res.result == fnv1a64(b->src, BUF_LEN), "%s: 0x%" PRIx64 ", expected 0x%" PRIx64,
          what, res.result, fnv1a64(b->src, BUF_LEN));
    return T_PASS;
}

/* ------------------------------------------------------------------------ */
/* 1: IOAS paging domain                                                       */

static int test_ioas_dma(void)
{
    struct dev d;
    struct bufs b;
    struct dma_result res;
    uint32_t ioas = 0;
    uint8_t *ro;
    int r;

    if ((r = dev_open(&d))) {
        return r;
    }
    if (d.hw_type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3) {
        diag("hw_info: ARM_SMMUV3 IDR0-5 %08x %08x %08x %08x %08x %08x IIDR %08x AIDR %08x, "
             "max_pasid_log2 %u, caps 0x%llx", d.hw.smmu.idr[0], d.hw.smmu.idr[1], d.hw.smmu.idr[2],
             d.hw.smmu.idr[3], d.hw.smmu.idr[4], d.hw.smmu.idr[5], d.hw.smmu.iidr, d.hw.smmu.aidr,
             d.max_pasid_log2, (unsigned long long)d.hw_caps);
    } else if (d.hw_type == IOMMU_HW_INFO_TYPE_INTEL_VTD) {
        diag("hw_info: INTEL_VTD CAP %016llx ECAP %016llx flags 0x%x, max_pasid_log2 %u, caps 0x%llx",
             (unsigned long long)d.hw.vtd.cap_reg, (unsigned long long)d.hw.vtd.ecap_reg,
             d.hw.vtd.flags, d.max_pasid_log2, (unsigned long long)d.hw_caps);
    } else {
        diag("hw_info: type %u, max_pasid_log2 %u, caps 0x%llx", d.hw_type, d.max_pasid_log2,
             (unsigned long long)d.hw_caps);
    }
    CHECK((ro = alloc_buf(BUF_LEN)), "out of memory");
    if ((r = paging_attach(&d, &b, &ioas)) != T_PASS) {
        return r;
    }
    CHECK((r = ioas_check_range(&d, ioas, IOVA_SRC, IOVA_TABLES + TABLES_LEN - IOVA_SRC)) == 0,
          "IOVA 0x%llx.. not allowed after attach: %s", IOVA_SRC, strerror(-r));

    if ((r = check_data_path(&d, &b, IOVA_SRC, IOVA_DST, 0, "paging"))) {
        return r;
    }

    /* Unmap the destination: a write there must fault and change nothing. */
    CHECK((r = ioas_unmap(&d, ioas, IOVA_DST, BUF_LEN)) == 0, "%s", ioctl_err("IOMMU_IOAS_UNMAP", -r));
    fill_random(b.src, BUF_LEN, 2);
    memset(b.dst, 0x77, BUF_LEN);
    memset(b.aux, 0x66, BUF_LEN);
    DMA_FAULT(&d, TD_OP_COPY, IOVA_SRC, IOVA_DST, BUF_LEN, 0, 0, &res, TD_ERR_WRITE_FAULT,
              IOVA_DST, IOVA_DST + BUF_LEN, "copy to unmapped IOVA");
    CHECK(first_not(b.dst, BUF_LEN, 0x77) < 0, "unmapped destination buffer was written");
    CHECK(first_not(b.aux, BUF_LEN, 0x66) < 0, "an unrelated buffer was written");
    DMA_FAULT(&d, TD_OP_FILL, 0, IOVA_HOLE, 4096, 0x11111111, 0, &res, TD_ERR_WRITE_FAULT,
              IOVA_HOLE, IOVA_HOLE + 4096, "fill of a never-mapped IOVA");
    DMA_FAULT(&d, TD_OP_COPY, IOVA_DST, IOVA_AUX, BUF_LEN, 0, 0, &res, TD_ERR_READ_FAULT,
              IOVA_DST, IOVA_DST + BUF_LEN, "copy from unmapped IOVA");
    CHECK(first_not(b.aux, BUF_LEN, 0x66) < 0, "a faulting read still wrote the destination");

    /* A copy that runs off the end of a mapping: the mapped part lands, then it faults. */
    CHECK((r = ioas_map(&d, ioas, b.dst, BUF_LEN, IOVA_DST, MAP_RW)) == 0, "%s",
          ioctl_err("IOMMU_IOAS_MAP (remap)", -r));
    memset(b.aux, 0x66, BUF_LEN);
    DMA_FAULT(&d, TD_OP_COPY, IOVA_SRC, IOVA_AUX + BUF_LEN - 8192, 16384, 0, 0, &res,
              TD_ERR_WRITE_FAULT, IOVA_AUX + BUF_LEN, IOVA_AUX + BUF_LEN + 8192,
              "copy across the end of a mapping");
    CHECK(first_diff(b.aux + BUF_LEN - 8192, b.src, 8192) < 0,
          "the mapped part of a partially faulting copy is wrong");
    CHECK(first_not(b.aux, BUF_LEN - 8192, 0x66) < 0, "bytes before the copy changed");

    /* Remapped: DMA works again (no stale translation of the unmapped range). */
    if ((r = check_data_path(&d, &b, IOVA_SRC, IOVA_DST, 0, "paging after remap"))) {
        return r;
    }

    /* A read-only mapping: reads work, writes fault. */
    CHECK((r = ioas_map(&d, ioas, ro, BUF_LEN, IOVA_HOLE + 0x100000, IOMMU_IOAS_MAP_READABLE)) == 0,
          "%s", ioctl_err("IOMMU_IOAS_MAP(read-only)", -r));
    fill_random(ro, BUF_LEN, 3);
    uint64_t ro_sum = fnv1a64(ro, BUF_LEN);
    DMA_OK(&d, TD_OP_CHECKSUM, IOVA_HOLE + 0x100000, 0, BUF_LEN, 0, 0, &res, "read-only checksum");
    CHECK(res.result == ro_sum, "checksum of the read-only mapping is wrong");
    DMA_FAULT(&d, TD_OP_FILL, 0, IOVA_HOLE + 0x100000, 4096, 0, 0, &res, TD_ERR_WRITE_FAULT,
              IOVA_HOLE + 0x100000, IOVA_HOLE + 0x101000, "fill of a read-only mapping");
    CHECK(fnv1a64(ro, BUF_LEN) == ro_sum, "a refused write changed the read-only buffer");
    return T_PASS;
}

/* ------------------------------------------------------------------------ */
/* 5: MSI-X completion interrupts through VFIO eventfds                       */

static int set_msix(struct dev *d, int *efd, int n)
{
    char buf[sizeof(struct vfio_irq_set) + 8 * sizeof(int32_t)];
    struct vfio_irq_set *s = (void *)buf;

    memset(buf, 0, sizeof(buf));
    s->argsz = sizeof(*s) + n * sizeof(int32_t);
    s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
    s->index = VFIO_PCI_MSIX_IRQ_INDEX;
    s->start = 0;
    s->count = n;
    memcpy(s->data, efd, n * sizeof(int32_t));
    return ioctl(d->devfd, VFIO_DEVICE_SET_IRQS, s) ? -errno : 0;
}

/* Wait for an eventfd to count; returns the count (0 on timeout). */
static uint64_t wait_eventfd(int fd, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    uint64_t v = 0;

    if (poll(&p, 1, timeout_ms) == 1 && read(fd, &v, 8) == 8) {
        return v;
    }
    return 0;
}

static uint64_t peek_eventfd(int fd)
{
    return wait_eventfd(fd, 0);
}

/*
 * Run ROUNDS operations per vector with completion interrupts on vector v and
 * check that exactly that eventfd counts each one.
 */
static int check_msix(struct dev *d, uint8_t *hs, uint8_t *ht, uint64_t s, uint64_t t,
                      uint32_t pasid, const char *mode)
{
    enum { ROUNDS = 4 };
    int efd[VIOMMU_TESTDEV_MSIX_VECTORS];
    struct dma_result res;
    int r;

    for (int v = 0; v < VIOMMU_TESTDEV_MSIX_VECTORS; v++) {
        efd[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        CHECK(efd[v] >= 0, "eventfd: %s", strerror(errno));
    }
    CHECK((r = set_msix(d, efd, VIOMMU_TESTDEV_MSIX_VECTORS)) == 0, "%s",
          ioctl_err("VFIO_DEVICE_SET_IRQS(MSI-X, eventfd)", -r));

    fill_random(hs, BUF_LEN, 5);
    for (int v = 0; v < VIOMMU_TESTDEV_MSIX_VECTORS; v++) {
        for (int i = 0; i < ROUNDS; i++) {
            uint64_t c;

            memset(ht, 0, 4096);
            dma_start(d, TD_OP_COPY, s, t, 4096, 0, pasid, TD_IRQ_ENABLE | v);
            c = wait_eventfd(efd[v], 5000);
            CHECK(c >= 1, "%s: no MSI-X interrupt on vector %d (round %d)", mode, v, i);
            CHECK(c == 1, "%s: vector %d counted %" PRIu64 " for one completion", mode, v, c);
            CHECK(dma_wait(d, &res) == 0 && !(res.status & TD_STATUS_ERROR),
                  "%s: DMA with interrupt failed: %s", mode, td_err_name(res.error));
            CHECK(first_diff(hs, ht, 4096) < 0, "%s: interrupt before the data landed", mode);
            for (int o = 0; o < VIOMMU_TESTDEV_MSIX_VECTORS; o++) {
                CHECK(o == v || peek_eventfd(efd[o]) == 0,
                      "%s: vector %d fired for a completion on vector %d", mode, o, v);
            }
        }
    }
    /* An operation that fails also completes with an interrupt. */
    dma_start(d, TD_OP_FILL, 0, IOVA_HOLE, 4096, 0, pasid, TD_IRQ_ENABLE | 2);
    CHECK(wait_eventfd(efd[2], 5000) == 1, "%s: no interrupt for a faulting DMA", mode);
    CHECK(dma_wait(d, &res) == 0 && res.error == TD_ERR_WRITE_FAULT,
          "%s: faulting DMA reported %s", mode, td_err_name(res.error));
    /* Without IRQ enable: no interrupt. */
    DMA_OK(d, TD_OP_COPY, s, t, 4096, 0, pasid, &res, "copy without interrupt");
    usleep(20000);
    for (int o = 0; o < VIOMMU_TESTDEV_MSIX_VECTORS; o++) {
        CHECK(peek_eventfd(efd[o]) == 0, "%s: vector %d fired with interrupts disabled", mode, o);
    }
    /* Tear down the eventfds: count 0 disables MSI-X. */
    struct vfio_irq_set off = {
        .argsz = sizeof(off), .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
        .index = VFIO_PCI_MSIX_IRQ_INDEX, .start = 0, .count = 0,
    };
    CHECK(ioctl(d->devfd, VFIO_DEVICE_SET_IRQS, &off) == 0, "%s",
          ioctl_err("VFIO_DEVICE_SET_IRQS(MSI-X off)", errno));
    for (int v = 0; v < VIOMMU_TESTDEV_MSIX_VECTORS; v++) {
        close(efd[v]);
    }
    return T_PASS;
}

static int test_msix(void)
{
    struct dev d;
    struct bufs b;
    uint32_t ioas = 0;
    int r;

    if ((r = dev_open(&d))) {
        return r;
    }
    if ((r = paging_attach(&d, &b, &ioas)) != T_PASS) {
        return r;
    }
    return check_msix(&d, b.src, b.dst, IOVA_SRC, IOVA_DST, 0, "paging");
}

/* ------------------------------------------------------------------------ */
/* Stage-1 tables built by the test (nested)                                  */

/*
 * The nested tests map one 64 KiB "tables" buffer at IOVA_TABLES (an IPA /
 * GPA, translated by the parent stage) and build a stage-1 page table in it
 * that maps VA_SRC/VA_DST/VA_AUX to IOVA_SRC/IOVA_DST/IOVA_AUX (64 KiB each)
 * and leaves VA_HOLE unmapped.
 */
struct s1 {
    uint8_t *mem;           /* the tables buffer */
    uint64_t ipa;           /* where it is in the parent's IOVA space */
    unsigned next;          /* next free table page (ptb's allocator) */
};

#define S1_PAGE(n)      ((n) * 4096ull)
static uint64_t *s1_table(struct s1 *s, int n)
{
    return (uint64_t *)(s->mem + S1_PAGE(n));
}

/*
 * ptb callbacks: "memory addresses" are IPAs / GPAs inside the tables buffer
 * (so entries hold them directly, addr_offset 0); tables are its next pages.
 */
static uint64_t s1_read64(void *opaque, uint64_t addr)
{
    struct s1 *s = opaque;

    return *(uint64_t *)(s->mem + (addr - s->ipa));
}

static void s1_write64(void *opaque, uint64_t addr, uint64_t val)
{
    struct s1 *s = opaque;

    *(uint64_t *)(s->mem + (addr - s->ipa)) = val;
}

static uint64_t s1_alloc_table(void *opaque, uint64_t size)
{
    struct s1 *s = opaque;
    uint64_t a = s->ipa + S1_PAGE(s->next);

    (void)size;             /* every table here is one 4 KiB page */
    s->next++;
    return a;
}

/* A builder over s's tables with the root at table page root. */
static void s1_builder(struct s1 *s, ptb *b, bool arm, int root, uint64_t table_bits)
{
    ptb_ops ops = {
        .read64 = s1_read64, .write64 = s1_write64, .alloc_table = s1_alloc_table, .opaque = s,
    };

    if (arm) {
        ptb_init_armv8(b, ops, 12, 1, 9, s->ipa + S1_PAGE(root));
    } else {
        ptb_init_x86(b, ops, PTB_X86_FS, 4, table_bits, s->ipa + S1_PAGE(root));
    }
}

/* ---- Arm: VMSAv8-64 stage 1, 4 KiB granule, 39-bit VA (start at level 1) ---- */

#define ARM_T0SZ            25
#define ARM_PTE_ATTRIDX(i)  ((uint64_t)(i) << 2)
#define ARM_PTE_AP_EL0_RW   (1ull << 6)         /* AP[2:1] = 01 */
#define ARM_PTE_SH_INNER    (3ull << 8)
#define ARM_PTE_NG          (1ull << 11)
#define ARM_LEAF_ATTRS      (ARM_PTE_ATTRIDX(0) | ARM_PTE_AP_EL0_RW | ARM_PTE_SH_INNER | \
                             PTB_ARMV8_AF | ARM_PTE_NG)

/*
 * Table pages inside the tables buffer: 0 = CD table, 1 = L1 (the root); ptb
 * allocates 2 = L2, 3 = L3 (for VA_SRC..) and 4 = L2 low, in that order.
 */
enum { ARM_CD = 0, ARM_L1 = 1, ARM_FIRST_TABLE = 2 };

static void arm_map_va(struct s1 *s, uint64_t va, uint64_t ipa, uint64_t len)
{
    ptb b;

    s1_builder(s, &b, true, ARM_L1, 0);
    for (uint64_t o = 0; o < len; o += 4096) {
        ptb_map(&b, va + o, ipa + o, 3, ARM_LEAF_ATTRS);
    }
}

static void arm_build_s1(struct s1 *s)
{
    ptb b;

    memset(s->mem, 0, TABLES_LEN);
    s->next = ARM_FIRST_TABLE;
    /* L1[1] (VA 1 GiB..2 GiB) -> L2 -> L3 covering VA_SRC.. (2 MiB) */
    arm_map_va(s, VA_SRC, IOVA_SRC, BUF_LEN);
    arm_map_va(s, VA_DST, IOVA_DST, BUF_LEN);
    arm_map_va(s, VA_AUX, IOVA_AUX, BUF_LEN);
    /*
     * L1[0] -> L2 low: identity 2 MiB block over the MSI window the kernel
     * maps in the parent stage (IOMMU_RESV_SW_MSI, 0x8000000), so MSI-X
     * doorbell writes pass stage 1 unchanged.
     */
    s1_builder(s, &b, true, ARM_L1, 0);
    ptb_map(&b, 0x8000000ull, 0x8000000ull, 2, ARM_LEAF_ATTRS);
}

/* A 64-byte context descriptor: stage 1 at TTB0 = ttb with ASID asid. */
static void arm_write_cd(uint64_t *cd, uint64_t ttb, uint16_t asid)
{
    memset(cd, 0, 64);
    cd[0] = (uint64_t)ARM_T0SZ               /* T0SZ */
          | (0ull << 6)                      /* TG0: 4 KiB */
          | (1ull << 8) | (1ull << 10)       /* IRGN0/ORGN0: WBWA */
          | (3ull << 12)                     /* SH0: inner shareable */
          | (1ull << 30)                     /* EPD1: no TTB1 walks */
          | (1ull << 31)                     /* V */
          | (2ull << 32)                     /* IPS: 40 bits */
          | (1ull << 41)                     /* AA64 */
          | (1ull << 45)                     /* R: record faults */
          | (1ull << 46)                     /* A: abort faulting transactions */
          | (1ull << 47)                     /* ASET: not shared with CPU TLBIs */
          | ((uint64_t)asid << 48);
    cd[1] = ttb & 0x000ffffffffffff0ull;     /* TTB0 */
    cd[2] = 0;
    cd[3] = 0xffull;                         /* MAIR: attr 0 = normal WB */
}

/* Context descriptor 0 of the linear CD table: S's own stage 1. */
static void arm_build_cd(struct s1 *s, uint16_t asid)
{
    arm_write_cd(s1_table(s, ARM_CD), s->ipa + S1_PAGE(ARM_L1), asid);
}

/* ---- Intel: first-stage (IA-32e 4-level) tables ---- */

/* Table pages: 0 = PML4 (the root); ptb allocates PDPT, PD, PT after it. */
enum { X86_PML4 = 0, X86_FIRST_TABLE = 1 };
#define X86_DIR_BITS    (PTB_FS_P | PTB_FS_RW | PTB_FS_US | PTB_FS_A)
#define X86_LEAF_ATTRS  (PTB_FS_RW | PTB_FS_US | PTB_FS_A | PTB_FS_D)

static void x86_map_va(struct s1 *s, uint64_t va, uint64_t gpa, uint64_t len)
{
    ptb b;

    s1_builder(s, &b, false, X86_PML4, X86_DIR_BITS);
    for (uint64_t o = 0; o < len; o += 4096) {
        ptb_map(&b, va + o, gpa + o, 1, X86_LEAF_ATTRS);
    }
}

static void x86_build_s1(struct s1 *s)
{
    memset(s->mem, 0, TABLES_LEN);
    s->next = X86_FIRST_TABLE;
    x86_map_va(s, VA_SRC, IOVA_SRC, BUF_LEN);
    x86_map_va(s, VA_DST, IOVA_DST, BUF_LEN);
    x86_map_va(s, VA_AUX, IOVA_AUX, BUF_LEN);
}

/* Repoint stage-1 VA_DST at another IPA range and invalidate through iommufd. */
struct nested {
    uint32_t ioas, parent, viommu, vdev;
    uint32_t hwpt, hwpt2;       /* two nested HWPTs over the same parent */
    struct s1 s1, s1b;          /* their stage-1 tables */
    uint16_t asid, asid2;
    uint32_t vtd_flags;         /* IOMMU_HWPT_ALLOC_* of the VT-d nested HWPTs */
};

/*
 * Invalidate the first NPAGES 4 KiB pages of VA_DST in the stage 1 of the
 * first (which = 0) or second nested HWPT: (Arm) one CMD_TLBI_NH_VA per page
 * with its ASID through the vIOMMU, (VT-d) one page-selective VTD_S1
 * invalidation of that HWPT (the kernel turns an aligned power-of-two count
 * into one PSI with that address mask, PASID-selective for a PASID's HWPT).
 */
static int nested_invalidate_dst(struct dev *d, struct nested *n, int which, int npages)
{
    uint32_t done = 0;
    int r;

    if (d->hw_type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3) {
        struct iommu_viommu_arm_smmuv3_invalidate cmd[BUF_LEN / 4096];
        for (int i = 0; i < npages; i++) {
            cmd[i].cmd[0] = 0x12 /* TLBI_NH_VA */ | ((uint64_t)(which ? n->asid2 : n->asid) << 48);
            cmd[i].cmd[1] = ((VA_DST + i * 4096ull) & ~0xfffull) | 1 /* leaf */;
        }
        r = hwpt_invalidate(d, n->viommu, IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, cmd,
                            sizeof(cmd[0]), npages, &done);
        if (r) {
            return FAIL("%s (%u of %d done)", ioctl_err("IOMMU_HWPT_INVALIDATE(vIOMMU, TLBI_NH_VA)", -r),
                        done, npages);
        }
    } else {
        struct iommu_hwpt_vtd_s1_invalidate inv = {
            .addr = VA_DST, .npages = npages, .flags = IOMMU_VTD_INV_FLAGS_LEAF,
        };
        r = hwpt_invalidate(d, which ? n->hwpt2 : n->hwpt, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, &inv,
                            sizeof(inv), 1, &done);
        if (r) {
            return FAIL("%s", ioctl_err("IOMMU_HWPT_INVALIDATE(VTD_S1)", -r));
        }
    }
    return T_PASS;
}

/* Build stage-1 tables in S (and the CD table on Arm) and allocate a nested HWPT. */
static int nested_alloc(struct dev *d, struct nested *n, struct s1 *s, uint16_t asid, uint32_t *hwpt)
{
    int r;

    if (d->hw_type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3) {
        arm_build_s1(s);
        arm_build_cd(s, asid);
        __sync_synchronize();
        struct iommu_hwpt_arm_smmuv3 ste = { .ste = {
            1ull /* V */ | (5ull << 1) /* Cfg = S1 translate */ | (0ull << 4) /* S1Fmt linear */ |
                ((s->ipa + S1_PAGE(ARM_CD)) & 0x000fffffffffffc0ull) /* S1ContextPtr */ |
                (0ull << 59) /* S1CDMax: one CD */,
            (1ull << 2) | (1ull << 4) | (3ull << 6),   /* S1CIR/S1COR WBRA, S1CSH ISH */
        } };
        r = hwpt_alloc(d, 0, n->viommu, IOMMU_HWPT_DATA_ARM_SMMUV3, &ste, sizeof(ste), hwpt);
        if (r) {
            return FAIL("%s", ioctl_err("IOMMU_HWPT_ALLOC(ARM_SMMUV3 vSTE)", -r));
        }
    } else {
        x86_build_s1(s);
        __sync_synchronize();
        struct iommu_hwpt_vtd_s1 s1 = {
            .flags = 0, .pgtbl_addr = s->ipa + S1_PAGE(X86_PML4), .addr_width = 48,
        };
        r = hwpt_alloc(d, n->vtd_flags, n->parent, IOMMU_HWPT_DATA_VTD_S1, &s1, sizeof(s1), hwpt);
        if (r) {
            return FAIL("%s", ioctl_err("IOMMU_HWPT_ALLOC(VTD_S1)", -r));
        }
    }
    return T_PASS;
}

/*
 * Build the nested configuration: an IOAS with the buffers and two sets of
 * stage-1 tables, a NEST_PARENT HWPT on it, (Arm) a vIOMMU + vDEVICE, and two
 * nested HWPTs whose stage-1 tables (and CD tables) this program wrote:
 * hwpt maps VA_DST -> IOVA_DST, hwpt2 maps VA_DST -> IOVA_AUX.  Unsupported
 * steps give T_SKIP with the kernel's answer.  vtd_flags: IOMMU_HWPT_ALLOC_*
 * for the VT-d nested HWPTs (PASID, to attach them to PASIDs).
 */
static int nested_setup(struct dev *d, struct bufs *b, struct nested *n, uint32_t vtd_flags)
{
    int r;

    memset(n, 0, sizeof(*n));
    n->vtd_flags = vtd_flags;
    n->asid = 1;
    n->asid2 = 2;
    n->s1.mem = alloc_buf(TABLES_LEN);
    n->s1.ipa = IOVA_TABLES;
    n->s1b.mem = alloc_buf(TABLES_LEN);
    n->s1b.ipa = IOVA_TABLES + TABLES_LEN;
    CHECK(n->s1.mem && n->s1b.mem, "out of memory");
    if (d->hw_type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3 && d->hw_type != IOMMU_HW_INFO_TYPE_INTEL_VTD) {
        /* Only reachable on reference columns: dev_open fails this on ours. */
        return SKIP("IOMMU_GET_HW_INFO type %u has no nested format in this test", d->hw_type);
    }
    CHECK((r = ioas_alloc(d, &n->ioas)) == 0, "%s", ioctl_err("IOMMU_IOAS_ALLOC", -r));
    CHECK((r = map_bufs(d, n->ioas, b)) == 0, "%s", ioctl_err("IOMMU_IOAS_MAP", -r));
    CHECK((r = ioas_map(d, n->ioas, n->s1.mem, TABLES_LEN, n->s1.ipa, MAP_RW)) == 0 &&
          (r = ioas_map(d, n->ioas, n->s1b.mem, TABLES_LEN, n->s1b.ipa, MAP_RW)) == 0, "%s",
          ioctl_err("IOMMU_IOAS_MAP(tables)", -r));
    vdiag("IOAS %u: data buffers and stage-1 tables mapped at IPAs (stage 2)", n->ioas);
    r = hwpt_alloc(d, IOMMU_HWPT_ALLOC_NEST_PARENT, n->ioas, IOMMU_HWPT_DATA_NONE, NULL, 0, &n->parent);
    if (r) {
        return unsupported(r, "%s", ioctl_err("IOMMU_HWPT_ALLOC(NEST_PARENT)", -r));
    }
    vdiag("stage-2 parent HWPT %u allocated (NEST_PARENT)", n->parent);

    if (d->hw_type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3) {
        struct iommu_viommu_alloc va = {
            .size = sizeof(va), .type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3, .dev_id = d->devid,
            .hwpt_id = n->parent,
        };
        if (ioctl(d->iommufd, IOMMU_VIOMMU_ALLOC, &va)) {
            r = -errno;
            return unsupported(r, "%s (IDR3.FWB=%u)", ioctl_err("IOMMU_VIOMMU_ALLOC(ARM_SMMUV3)", -r),
                               (d->hw.smmu.idr[3] >> 8) & 1);
        }
        n->viommu = va.out_viommu_id;
        struct iommu_vdevice_alloc vd = {
            .size = sizeof(vd), .viommu_id = n->viommu, .dev_id = d->devid, .virt_id = 0x10,
        };
        CHECK(ioctl(d->iommufd, IOMMU_VDEVICE_ALLOC, &vd) == 0, "%s",
              ioctl_err("IOMMU_VDEVICE_ALLOC", errno));
        n->vdev = vd.out_vdevice_id;
        vdiag("vIOMMU %u on the parent, vDEVICE %u with virtual StreamID 0x10", n->viommu, n->vdev);
    }
    if ((r = nested_alloc(d, n, &n->s1, n->asid, &n->hwpt))) {
        return r;
    }
    if ((r = nested_alloc(d, n, &n->s1b, n->asid2, &n->hwpt2))) {
        return r;
    }
    vdiag("nested HWPTs %u and %u: stage-1 tables built by this program at IPA 0x%" PRIx64
          " and 0x%" PRIx64 " (%s)", n->hwpt, n->hwpt2, n->s1.ipa, n->s1b.ipa,
          d->hw_type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3 ? "vSTE + CD, VMSAv8-64 4K" :
          "IOMMU_HWPT_DATA_VTD_S1, 4-level first stage");
    /* The second stage 1 sends VA_DST to the aux buffer. */
    if (d->hw_type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3) {
        arm_map_va(&n->s1b, VA_DST, IOVA_AUX, BUF_LEN);
    } else {
        x86_map_va(&n->s1b, VA_DST, IOVA_AUX, BUF_LEN);
    }
    __sync_synchronize();
    return T_PASS;
}

/* ------------------------------------------------------------------------ */
/* 2: nested translation                                                       */

static int test_nested(void)
{
    struct dev d;
    struct bufs b;
    struct nested n;
    struct dma_result res;
    int r;

    if ((r = dev_open(&d))) {
        return r;
    }
    CHECK(bufs_alloc(&b) == 0, "out of memory");
    if ((r = nested_setup(&d, &b, &n, 0))) {
        return r;
    }
    CHECK((r = attach(&d, n.hwpt)) == 0, "%s", ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(nested)", -r));
    vdiag("device attached to nested HWPT %u: its DMA now goes VA -> (stage 1) -> IPA -> (stage 2) -> PA",
          n.hwpt);

    if ((r = check_data_path(&d, &b, VA_SRC, VA_DST, 0, "nested"))) {
        return r;
    }
    /* MSI-X through the nested configuration (Arm: the doorbell IPA is identity-mapped in S1). */
    if ((r = check_msix(&d, b.src, b.dst, VA_SRC, VA_DST, 0, "nested"))) {
        return r;
    }
    /* An address stage 1 does not map faults. */
    DMA_FAULT(&d, TD_OP_FILL, 0, VA_HOLE, 4096, 0, 0, &res, TD_ERR_WRITE_FAULT,
              VA_HOLE, VA_HOLE + 4096, "nested: fill of a VA stage 1 does not map");
    /* The IPA itself is not a valid VA (stage 1 really is in use). */
    DMA_FAULT(&d, TD_OP_FILL, 0, IOVA_DST, 4096, 0, 0, &res, TD_ERR_WRITE_FAULT,
              IOVA_DST, IOVA_DST + 4096, "nested: fill of an IPA that stage 1 does not map");

    /*
     * Change stage 1 (VA_DST -> the aux buffer) and check, in this order, that
     * the IOTLB really caches (before any invalidation the DMA still uses the
     * old translation; otherwise the checks after it would prove nothing),
     * that a too-narrow invalidation (the first half of the range) updates
     * exactly that half, and that the full one updates the rest.  Cached
     * translations may be dropped at any time architecturally, but our
     * vIOMMUs' IOTLBs keep these 16 entries (nothing else runs), so on them
     * a translation that changes without its invalidation is a bug.
     */
    enum { NPAGES = BUF_LEN / 4096, HALF = BUF_LEN / 2 };
    memset(b.dst, 0x11, BUF_LEN);
    memset(b.aux, 0x22, BUF_LEN);
    DMA_OK(&d, TD_OP_FILL, 0, VA_DST, BUF_LEN, 0x0f0f0f0fu, 0, &res, "nested: fill before the S1 change");
    CHECK(pattern_ok(b.dst, BUF_LEN, 0x0f0f0f0fu), "nested: fill before the S1 change missed its target");
    if (d.hw_type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3) {
        arm_map_va(&n.s1, VA_DST, IOVA_AUX, BUF_LEN);
    } else {
        x86_map_va(&n.s1, VA_DST, IOVA_AUX, BUF_LEN);
    }
    __sync_synchronize();
    vdiag("stage-1 PTEs for VA 0x%" PRIx64 " changed to IPA 0x%" PRIx64 ", not invalidated yet",
          VA_DST, IOVA_AUX);
    DMA_OK(&d, TD_OP_FILL, 0, VA_DST, BUF_LEN, 0x01010101u, 0, &res, "nested: fill before invalidating");
    CHECK(first_not(b.aux, BUF_LEN, 0x22) < 0,
          "nested: the new stage-1 target was written before any invalidation (the IOTLB does not "
          "cache, so the invalidation checks cannot fail)");
    CHECK(pattern_ok(b.dst, BUF_LEN, 0x01010101u),
          "nested: before invalidating, the fill did not use the cached (old) translation");

    if ((r = nested_invalidate_dst(&d, &n, 0, NPAGES / 2))) {
        return r;
    }
    memset(b.dst, 0x11, BUF_LEN);
    DMA_OK(&d, TD_OP_FILL, 0, VA_DST, BUF_LEN, 0x02020202u, 0, &res, "nested: fill after a half invalidation");
    CHECK(pattern_ok(b.aux, HALF, 0x02020202u),
          "nested: the invalidated half of the range still used the old translation (stale IOTLB)");
    CHECK(first_not(b.dst, HALF, 0x11) < 0,
          "nested: the old target of the invalidated half was written (stale IOTLB)");
    CHECK(pattern_ok(b.dst + HALF, HALF, 0x02020202u) && first_not(b.aux + HALF, HALF, 0x22) < 0,
          "nested: pages outside a %d-page invalidation lost their cached translation (the "
          "invalidation range is not decoded: it flushed more than asked)", NPAGES / 2);

    if ((r = nested_invalidate_dst(&d, &n, 0, NPAGES))) {
        return r;
    }
    memset(b.dst, 0x11, BUF_LEN);
    memset(b.aux, 0x22, BUF_LEN);
    DMA_OK(&d, TD_OP_FILL, 0, VA_DST, BUF_LEN, 0x01020304u, 0, &res, "nested: fill after S1 change");
    CHECK(pattern_ok(b.aux, BUF_LEN, 0x01020304u), "nested: new stage-1 target not written");
    CHECK(first_not(b.dst, BUF_LEN, 0x11) < 0,
          "nested: old stage-1 target written after the change and invalidation (stale IOTLB)");

    /* Stage 2 still applies: unmapping the IPA behind a stage-1 mapping faults. */
    CHECK((r = ioas_unmap(&d, n.ioas, IOVA_AUX, BUF_LEN)) == 0, "%s", ioctl_err("IOMMU_IOAS_UNMAP", -r));
    DMA_FAULT(&d, TD_OP_FILL, 0, VA_DST, 4096, 0, 0, &res, TD_ERR_WRITE_FAULT, VA_DST, VA_DST + 4096,
              "nested: fill where stage 2 was unmapped");
    return T_PASS;
}

/* ------------------------------------------------------------------------ */
/* 3: replace the attached HWPT while DMA runs                                */

/*
 * The storm: this thread replaces the device's HWPT (or a PASID's) back and
 * forth between two domains that map the storm's address to different
 * buffers, while a second thread keeps the device DMAing there.  DMA k fills
 * slot k (STORM_SLOT bytes at dst + k * STORM_SLOT, never crossing a page)
 * with a pattern carrying k and completes STORM_DELAY_NS of virtual time after
 * GO, so with the guest's two vCPUs DMAs are in flight while attaches run.
 * Around each attach the replacing thread bumps a generation (odd while the
 * attach runs); the DMA thread reads it before GO and after completion.  A DMA
 * that saw one even generation must land in the buffer of the domain attached
 * then; one that straddled an attach in the old or the new domain's buffer;
 * none anywhere else.  On SMMUv3 none may fault: Linux updates the STE (and
 * CD) hitlessly, so some valid translation exists throughout.  Linux's VT-d
 * driver is not hitless: every attach and PASID replace first clears the
 * PASID entry (device_block_translation(), intel_pasid_tear_down_entry()) and
 * then writes the new one, and a DMA in that window faults, as VT-d 3.x
 * requires for a non-present entry.  So on VT-d a fault is allowed only for a
 * DMA in flight across an attach, at its own address, having written nothing;
 * a fault of any other DMA fails.
 */
#define STORM_SLOT          16
#define STORM_SLOTS         (BUF_LEN / STORM_SLOT)
#define STORM_SWITCHES      41              /* odd: the storm ends on the other domain */
#define STORM_DELAY_NS      200000u         /* 200 us of virtual time per DMA */
#define STORM_PATTERN(k)    (0xa5000000u | (uint32_t)(k))

struct storm_dom {
    uint32_t pt;            /* HWPT (or IOAS) id */
    uint8_t *buf;           /* what the storm's address maps to in it */
    const char *name;
};

struct storm {
    struct dev *d;
    uint64_t dst;
    uint32_t pasid;         /* TD_PASID value: 0, or TD_PASID_VALID | the PASID */
    uint32_t gen;           /* attach generation, odd while an attach runs */
    bool stop;
    unsigned ops, faults, other_errors, timeouts;
    uint32_t last_err;
    uint64_t fault_addr;
    uint32_t g0[STORM_SLOTS], g1[STORM_SLOTS];      /* generation at GO / at completion */
    bool done_ok[STORM_SLOTS];
    bool faulted[STORM_SLOTS];
    uint64_t faddr[STORM_SLOTS];
};

static void *storm_runner(void *arg)
{
    struct storm *st = arg;
    struct dma_result res;

    while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE) && st->ops < STORM_SLOTS) {
        unsigned k = st->ops;
        int r;

        st->g0[k] = __atomic_load_n(&st->gen, __ATOMIC_SEQ_CST);
        dma_start_delayed(st->d, TD_OP_FILL, 0, st->dst + k * STORM_SLOT, STORM_SLOT,
                          STORM_PATTERN(k), st->pasid, 0, STORM_DELAY_NS);
        r = dma_wait(st->d, &res);
        st->g1[k] = __atomic_load_n(&st->gen, __ATOMIC_SEQ_CST);
        st->ops++;
        if (r) {
            st->timeouts++;
        } else if (!(res.status & TD_STATUS_ERROR)) {
            st->done_ok[k] = true;
        } else if (res.error == TD_ERR_READ_FAULT || res.error == TD_ERR_WRITE_FAULT) {
            if (!st->faults++) {
                st->fault_addr = res.fault_addr;
            }
            st->faulted[k] = true;
            st->faddr[k] = res.fault_addr;
        } else {
            st->other_errors++;
            st->last_err = res.error;
        }
    }
    return NULL;
}

/* 1: slot k of buf holds DMA k's pattern; 0: untouched (zero); -1: anything else. */
static int storm_slot(const uint8_t *buf, unsigned k)
{
    const uint8_t *p = buf + k * STORM_SLOT;

    if (first_not(p, STORM_SLOT, 0) < 0) {
        return 0;
    }
    return pattern_ok(p, STORM_SLOT, STORM_PATTERN(k)) ? 1 : -1;
}

/* For a failure report: what slot k holds in each buffer, and where DMA k's pattern went. */
static void storm_explain(const struct storm *st, const struct storm_dom dom[2], unsigned k)
{
    for (int b = 0; b < 2; b++) {
        const uint8_t *p = dom[b].buf + k * STORM_SLOT;
        char hex[3 * STORM_SLOT + 1];

        for (unsigned i = 0; i < STORM_SLOT; i++) {
            snprintf(hex + 3 * i, 4, "%02x ", p[i]);
        }
        diag("DMA %u (gen %u..%u, %s): slot in %s: %s", k, st->g0[k], st->g1[k],
             st->done_ok[k] ? "completed" : st->faulted[k] ? "faulted" : "failed", dom[b].name, hex);
        for (unsigned j = 0; j < STORM_SLOTS; j++) {
            if (j != k && storm_slot(dom[b].buf, j) < 0 &&
                pattern_ok(dom[b].buf + j * STORM_SLOT, STORM_SLOT, STORM_PATTERN(k))) {
                diag("DMA %u's pattern is in slot %u of %s", k, j, dom[b].name);
            }
        }
    }
}

/*
 * Replace STORM_SWITCHES times between dom[0] (attached now, to the device or
 * to PASID pasid) and dom[1] under DMA to dst; ends attached to dom[1].  No
 * DMA of the storm may change the NOTHERS buffers in others (BUF_LEN each).
 */
static int replace_storm(struct dev *d, const struct storm_dom dom[2], uint32_t pasid, uint64_t dst,
                         uint8_t *const *others, int nothers, const char *mode)
{
    struct storm *st = calloc(1, sizeof(*st));
    uint64_t sums[8];
    unsigned straddled = 0, landed[2] = { 0, 0 };
    bool vtd = d->hw_type == IOMMU_HW_INFO_TYPE_INTEL_VTD;
    /*
     * Where Linux cannot update the entry hitlessly a DMA in flight across the
     * attach may fault, as the architecture requires: VT-d tears the PASID entry
     * down first; SMMUv3 replaces a CD whose ASID and TTB0 both change with a
     * breaking update (arm_smmu_get_cd_used(): two used qwords differ, so V=0,
     * CFGI_CD, SYNC, ...), which must end in C_BAD_CD.  Nested<->nested only
     * changes the vSTE's S1 fields hitlessly and must never fault.
     */
    bool breaking = vtd || pasid || strstr(mode, "paging") != NULL;
    pthread_t th;
    int r = 0, sw;

    CHECK(st && nothers <= 8, "out of memory");
    st->d = d;
    st->dst = dst;
    st->pasid = pasid;
    memset(dom[0].buf, 0, BUF_LEN);
    memset(dom[1].buf, 0, BUF_LEN);
    for (int i = 0; i < nothers; i++) {
        sums[i] = fnv1a64(others[i], BUF_LEN);
    }
    CHECK(pthread_create(&th, NULL, storm_runner, st) == 0, "pthread_create failed");
    for (sw = 0; sw < STORM_SWITCHES && !r; sw++) {
        const struct storm_dom *to = &dom[(sw + 1) & 1];

        __atomic_add_fetch(&st->gen, 1, __ATOMIC_SEQ_CST);
        r = pasid ? attach_pasid(d, pasid & TD_PASID_VALUE_MASK, to->pt) : attach(d, to->pt);
        __atomic_add_fetch(&st->gen, 1, __ATOMIC_SEQ_CST);
        usleep(1000);
    }
    __atomic_store_n(&st->stop, true, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    CHECK(r == 0, "%s: replace %d: %s", mode, sw,
          ioctl_err(pasid ? "VFIO_DEVICE_ATTACH_IOMMUFD_PT(PASID replace under DMA)" :
                    "VFIO_DEVICE_ATTACH_IOMMUFD_PT(replace under DMA)", -r));

    for (unsigned k = 0; k < st->ops; k++) {
        int in0 = storm_slot(dom[0].buf, k), in1 = storm_slot(dom[1].buf, k);
        bool straddle = st->g0[k] != st->g1[k] || (st->g0[k] & 1);
        /* After c completed attaches dom[c & 1] is attached. */
        int want = (st->g0[k] / 2) & 1;

        straddled += straddle;
        if (in0 < 0 || in1 < 0) {
            storm_explain(st, dom, k);
        }
        CHECK(in0 >= 0 && in1 >= 0, "%s: DMA %u: slot %u of the %s buffer holds something else than "
              "its pattern 0x%08x (misdirected DMA)", mode, k, k, in0 < 0 ? dom[0].name : dom[1].name,
              STORM_PATTERN(k));
        if (!st->done_ok[k]) {
            uint64_t slot = st->dst + k * STORM_SLOT;

            CHECK(in0 + in1 == 0, "%s: DMA %u failed but its data landed", mode, k);
            CHECK(!st->faulted[k] || !breaking || straddle, "%s: DMA %u faulted (at 0x%" PRIx64 ") though no "
                  "attach ran while it was in flight", mode, k, st->faddr[k]);
            CHECK(!st->faulted[k] || (st->faddr[k] >= slot && st->faddr[k] < slot + STORM_SLOT),
                  "%s: DMA %u of 0x%" PRIx64 " faulted at 0x%" PRIx64, mode, k, slot, st->faddr[k]);
            continue;
        }
        CHECK(in0 + in1 == 1, in0 + in1 ? "%s: DMA %u landed in both domains' buffers" :
              "%s: DMA %u completed but its data is in neither domain's buffer", mode, k);
        CHECK(straddle || (want ? in1 : in0), "%s: DMA %u ran entirely while %s was attached (no attach "
              "in between) but landed in %s's buffer", mode, k, dom[want].name, dom[!want].name);
        landed[in1]++;
    }
    for (unsigned k = st->ops; k < STORM_SLOTS; k++) {
        CHECK(storm_slot(dom[0].buf, k) == 0 && storm_slot(dom[1].buf, k) == 0,
              "%s: slot %u written though only %u DMAs were issued", mode, k, st->ops);
    }
    for (int i = 0; i < nothers; i++) {
        CHECK(fnv1a64(others[i], BUF_LEN) == sums[i],
              "%s: a buffer neither domain maps at 0x%" PRIx64 " changed during the storm", mode, dst);
    }
    diag("%s replace under DMA: %d switches, %u DMAs (%u straddled an attach), %u landed in %s, "
         "%u in %s, %u faults, %u other errors, %u timeouts", mode, STORM_SWITCHES, st->ops, straddled,
         landed[0], dom[0].name, landed[1], dom[1].name, st->faults, st->other_errors, st->timeouts);
    CHECK(st->ops > 0, "%s: no DMA completed while replacing", mode);
    CHECK(st->faults == 0 || breaking, "%s: %u of %u DMAs faulted during a hitless replace (first at 0x%" PRIx64 ")",
          mode, st->faults, st->ops, st->fault_addr);
    CHECK(st->faults < st->ops, "%s: all %u DMAs faulted", mode, st->ops);
    CHECK(st->other_errors == 0 && st->timeouts == 0, "%s: %u DMAs ended with other errors (last %s), "
          "%u timed out", mode, st->other_errors, td_err_name(st->last_err), st->timeouts);
    CHECK(straddled > 0, "%s: no DMA was in flight across an attach: the storm tested nothing", mode);
    free(st);
    return T_PASS;
}

/* Attach pt (to PASID pasid if not 0) and check that a fill of addr lands in want and not in other. */
static int replace_check(struct dev *d, uint32_t pt, uint32_t pasid, uint64_t addr, uint8_t *want,
                         uint8_t *other, uint32_t pat, const char *what)
{
    struct dma_result res;
    int r;

    r = pasid ? attach_pasid(d, pasid & TD_PASID_VALUE_MASK, pt) : attach(d, pt);
    CHECK(r == 0, "%s", ioctl_err(what, -r));
    memset(want, 0, BUF_LEN);
    memset(other, 0, BUF_LEN);
    DMA_OK(d, TD_OP_FILL, 0, addr, BUF_LEN, pat, pasid, &res, what);
    CHECK(pattern_ok(want, BUF_LEN, pat), "%s: the fill did not reach the new HWPT's buffer", what);
    CHECK(first_not(other, BUF_LEN, 0) < 0, "%s: the old HWPT's buffer was written (stale)", what);
    return T_PASS;
}

/*
 * A part of a subtest ended with R.  A skip on a reference column becomes a
 * note (the subtest goes on and ends T_PARTIAL); anything else ends it.
 */
static int part_done(int r, char *notes, size_t len, const char *part)
{
    size_t n = strlen(notes);

    if (r != T_SKIP || ours) {
        return r;
    }
    snprintf(notes + n, len - n, "%s%s part not run: %s", n ? "; " : "", part, result_reason);
    result_reason[0] = 0;
    return T_PASS;
}

/*
 * PASID replace under PASID-tagged DMA: the RID on a PASID-capable HWPT
 * mapping IOVA_DST to rid_buf, PASID 1 replaced between two more.
 */
static int replace_pasid_part(struct dev *d, uint32_t rid_ioas, uint8_t *rid_buf, uint8_t *other)
{
    struct storm_dom dom[2] = { { .name = "PASID HWPT A" }, { .name = "PASID HWPT B" } };
    uint32_t ioas[2] = { 0, 0 }, h0 = 0, pasid = TD_PASID_VALID | 1;
    uint8_t *others[] = { rid_buf, other };
    struct dma_result res;
    int r;

    if (d->max_pasid_log2 == 0) {
        return SKIP("IOMMU_GET_HW_INFO reports out_max_pasid_log2 = 0");
    }
    CHECK((dom[0].buf = alloc_buf(BUF_LEN)) && (dom[1].buf = alloc_buf(BUF_LEN)), "out of memory");
    r = hwpt_alloc(d, IOMMU_HWPT_ALLOC_PASID, rid_ioas, IOMMU_HWPT_DATA_NONE, NULL, 0, &h0);
    if (r) {
        return unsupported(r, "%s", ioctl_err("IOMMU_HWPT_ALLOC(PASID)", -r));
    }
    for (int i = 0; i < 2; i++) {
        CHECK((r = ioas_alloc(d, &ioas[i])) == 0, "%s", ioctl_err("IOMMU_IOAS_ALLOC", -r));
        CHECK((r = ioas_map(d, ioas[i], dom[i].buf, BUF_LEN, IOVA_DST, MAP_RW)) == 0, "%s",
              ioctl_err("IOMMU_IOAS_MAP", -r));
        CHECK((r = hwpt_alloc(d, IOMMU_HWPT_ALLOC_PASID, ioas[i], IOMMU_HWPT_DATA_NONE, NULL, 0,
                              &dom[i].pt)) == 0, "%s", ioctl_err("IOMMU_HWPT_ALLOC(PASID)", -r));
    }
    CHECK((r = attach(d, h0)) == 0, "%s", ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(RID, PASID-capable)", -r));
    r = attach_pasid(d, 1, dom[0].pt);
    if (r) {
        return unsupported(r, "%s", ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(PASID 1)", -r));
    }
    if (!(rd(d, TD_CAPS) & TD_CAPS_PASID_PATH)) {
        return SKIP("the IOMMU in front gives the device no PASID address space (TD_CAPS.PASID_PATH=0)");
    }
    if ((r = replace_check(d, dom[1].pt, pasid, IOVA_DST, dom[1].buf, dom[0].buf, 0x88888888u,
                           "replace PASID 1: A -> B")) ||
        (r = replace_check(d, dom[0].pt, pasid, IOVA_DST, dom[0].buf, dom[1].buf, 0x99999999u,
                           "replace PASID 1: B -> A")) ||
        (r = replace_storm(d, dom, pasid, IOVA_DST, others, 2, "PASID A<->B"))) {
        return r;
    }
    memset(dom[0].buf, 0, BUF_LEN);
    memset(dom[1].buf, 0, BUF_LEN);
    memset(rid_buf, 0, BUF_LEN);
    DMA_OK(d, TD_OP_FILL, 0, IOVA_DST, BUF_LEN, 0xaaaaaaaau, pasid, &res, "PASID 1 after the storm");
    CHECK(pattern_ok(dom[1].buf, BUF_LEN, 0xaaaaaaaau) && first_not(dom[0].buf, BUF_LEN, 0) < 0,
          "PASID 1 after the storm: not (only) in the last HWPT's buffer");
    memset(dom[1].buf, 0, BUF_LEN);
    DMA_OK(d, TD_OP_FILL, 0, IOVA_DST, BUF_LEN, 0xbbbbbbbbu, 0, &res, "RID after the PASID storm");
    CHECK(pattern_ok(rid_buf, BUF_LEN, 0xbbbbbbbbu) && first_not(dom[0].buf, BUF_LEN, 0) < 0 &&
          first_not(dom[1].buf, BUF_LEN, 0) < 0,
          "RID DMA after the PASID storm did not use the RID's HWPT");
    CHECK((r = detach_pasid(d, 1)) == 0, "%s", ioctl_err("VFIO_DEVICE_DETACH_IOMMUFD_PT(PASID 1)", -r));
    return T_PASS;
}

static int test_replace(void)
{
    struct dev d;
    struct bufs b;
    struct nested n;
    uint32_t ioas1 = 0, ioas2 = 0, h1 = 0, h2 = 0;
    char notes[sizeof(result_reason)] = "";
    uint8_t *p, *q;
    int r;

    if ((r = dev_open(&d))) {
        return r;
    }
    CHECK(bufs_alloc(&b) == 0 && (p = alloc_buf(BUF_LEN)) && (q = alloc_buf(BUF_LEN)), "out of memory");
    /* Two paging HWPTs on two IOASes mapping the same IOVA to different memory. */
    CHECK((r = ioas_alloc(&d, &ioas1)) == 0 && (r = ioas_alloc(&d, &ioas2)) == 0, "%s",
          ioctl_err("IOMMU_IOAS_ALLOC", -r));
    CHECK((r = ioas_map(&d, ioas1, p, BUF_LEN, IOVA_DST, MAP_RW)) == 0 &&
          (r = ioas_map(&d, ioas2, q, BUF_LEN, IOVA_DST, MAP_RW)) == 0, "%s",
          ioctl_err("IOMMU_IOAS_MAP", -r));
    /* p also at VA_DST, so paging 1 and the nested HWPTs all map the storm's target. */
    CHECK((r = ioas_map(&d, ioas1, p, BUF_LEN, VA_DST, MAP_RW)) == 0, "%s",
          ioctl_err("IOMMU_IOAS_MAP", -r));
    CHECK((r = hwpt_alloc(&d, 0, ioas1, IOMMU_HWPT_DATA_NONE, NULL, 0, &h1)) == 0 &&
          (r = hwpt_alloc(&d, 0, ioas2, IOMMU_HWPT_DATA_NONE, NULL, 0, &h2)) == 0, "%s",
          ioctl_err("IOMMU_HWPT_ALLOC(paging)", -r));

    const struct storm_dom paging[2] = { { h2, q, "paging 2" }, { h1, p, "paging 1" } };
    uint8_t *paging_others[] = { b.dst, b.aux };
    if ((r = replace_check(&d, h1, 0, IOVA_DST, p, q, 0x11111111u, "attach paging hwpt 1")) ||
        (r = replace_check(&d, h2, 0, IOVA_DST, q, p, 0x22222222u, "replace paging 1 -> paging 2")) ||
        (r = replace_storm(&d, paging, 0, IOVA_DST, paging_others, 2, "paging<->paging")) ||
        (r = replace_check(&d, h1, 0, IOVA_DST, p, q, 0x33333333u, "paging 1 after the replace storm"))) {
        return r;
    }

    /* paging -> nested -> other nested (storm) -> paging (storm). */
    r = part_done(nested_setup(&d, &b, &n, 0), notes, sizeof(notes), "nested");
    if (r) {
        return r;
    }
    if (!notes[0]) {
        const struct storm_dom nn[2] = { { n.hwpt2, b.aux, "nested 2" }, { n.hwpt, b.dst, "nested 1" } };
        const struct storm_dom pn[2] = { { n.hwpt, b.dst, "nested 1" }, { h1, p, "paging 1" } };
        uint8_t *nn_others[] = { p, q }, *pn_others[] = { b.aux, q };

        if ((r = replace_check(&d, n.hwpt, 0, VA_DST, b.dst, b.aux, 0x44444444u, "replace paging -> nested 1")) ||
            (r = replace_check(&d, n.hwpt2, 0, VA_DST, b.aux, b.dst, 0x55555555u, "replace nested 1 -> nested 2")) ||
            (r = replace_storm(&d, nn, 0, VA_DST, nn_others, 2, "nested<->nested")) ||
            (r = replace_check(&d, n.hwpt, 0, VA_DST, b.dst, b.aux, 0x66666666u, "nested 1 after the replace storm")) ||
            (r = replace_storm(&d, pn, 0, VA_DST, pn_others, 2, "nested<->paging")) ||
            (r = replace_check(&d, h1, 0, IOVA_DST, p, b.dst, 0x77777777u, "paging 1 after the nested<->paging storm"))) {
            return r;
        }
    }

    /* PASID 1 replaced under PASID-tagged DMA, the RID on ioas1 (p). */
    if ((r = part_done(replace_pasid_part(&d, ioas1, p, q), notes, sizeof(notes), "PASID"))) {
        return r;
    }
    return notes[0] ? PARTIAL("paging<->paging ran; %s", notes) : T_PASS;
}

/* ------------------------------------------------------------------------ */
/* 4: PASID attach                                                             */

static int test_pasid(void)
{
    struct dev d;
    struct bufs b;
    struct dma_result res;
    uint32_t ioas0 = 0, ioas1 = 0, ioas2 = 0, h0 = 0, h1 = 0, h2 = 0, pa = 1, pb = 2;
    uint8_t *p1, *p2;
    char what[96];
    int r;

    if ((r = dev_open(&d))) {
        return r;
    }
    diag("out_max_pasid_log2 %u, capabilities 0x%llx", d.max_pasid_log2, (unsigned long long)d.hw_caps);
    if (d.max_pasid_log2 == 0) {
        return SKIP("IOMMU_GET_HW_INFO reports out_max_pasid_log2 = 0 (no PASID support for this device)");
    }
    if (d.max_pasid_log2 < 2) {
        pb = 0;                 /* only PASID 1 exists besides PASID 0 (RID) */
    }
    CHECK(bufs_alloc(&b) == 0 && (p1 = alloc_buf(BUF_LEN)) && (p2 = alloc_buf(BUF_LEN)), "out of memory");
    CHECK((r = ioas_alloc(&d, &ioas0)) == 0 && (r = ioas_alloc(&d, &ioas1)) == 0 &&
          (r = ioas_alloc(&d, &ioas2)) == 0, "%s", ioctl_err("IOMMU_IOAS_ALLOC", -r));
    CHECK((r = map_bufs(&d, ioas0, &b)) == 0, "%s", ioctl_err("IOMMU_IOAS_MAP", -r));
    CHECK((r = ioas_map(&d, ioas1, p1, BUF_LEN, IOVA_DST, MAP_RW)) == 0 &&
          (r = ioas_map(&d, ioas1, b.src, BUF_LEN, IOVA_SRC, MAP_RW)) == 0 &&
          (r = ioas_map(&d, ioas2, p2, BUF_LEN, IOVA_DST, MAP_RW)) == 0, "%s",
          ioctl_err("IOMMU_IOAS_MAP", -r));
    r = hwpt_alloc(&d, IOMMU_HWPT_ALLOC_PASID, ioas0, IOMMU_HWPT_DATA_NONE, NULL, 0, &h0);
    if (r) {
        return unsupported(r, "%s", ioctl_err("IOMMU_HWPT_ALLOC(PASID)", -r));
    }
    CHECK((r = hwpt_alloc(&d, IOMMU_HWPT_ALLOC_PASID, ioas1, IOMMU_HWPT_DATA_NONE, NULL, 0, &h1)) == 0 &&
          (r = hwpt_alloc(&d, IOMMU_HWPT_ALLOC_PASID, ioas2, IOMMU_HWPT_DATA_NONE, NULL, 0, &h2)) == 0,
          "%s", ioctl_err("IOMMU_HWPT_ALLOC(PASID)", -r));
    CHECK((r = attach(&d, h0)) == 0, "%s", ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(RID, PASID-capable hwpt)", -r));

    /* The kernel side: attach, out-of-range PASID refused, replace, detach. */
    r = attach_pasid(&d, pa, h1);
    if (r) {
        return unsupported(r, "%s", ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(PASID 1)", -r));
    }
    if (pb) {
        CHECK((r = attach_pasid(&d, pb, h2)) == 0, "%s", ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(PASID 2)", -r));
    }
    if (d.max_pasid_log2 < 20) {
        uint32_t big = 1u << d.max_pasid_log2;
        r = attach_pasid(&d, big, h2);
        CHECK(r == -EINVAL, "attaching PASID %u (>= 2^out_max_pasid_log2) gave %s, expected -EINVAL",
              big, r ? errname(-r) : "success");
    }
    CHECK((r = attach_pasid(&d, pa, h2)) == 0 && (r = attach_pasid(&d, pa, h1)) == 0, "%s",
          ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(PASID 1 replace)", -r));
    CHECK((r = detach_pasid(&d, pa)) == 0 && (r = attach_pasid(&d, pa, h1)) == 0, "%s",
          ioctl_err("detach + re-attach of PASID 1", -r));

    if (!(rd(&d, TD_CAPS) & TD_CAPS_PASID_PATH)) {
        return SKIP("PASID %s attach/replace/detach accepted by the kernel, but the IOMMU in front gives "
                    "the device no PASID address space (TD_CAPS.PASID_PATH=0: upstream QEMU cannot "
                    "carry a PASID)", pb ? "1+2" : "1 (out_max_pasid_log2=1)");
    }
    memset(p1, 0, BUF_LEN);
    memset(p2, 0, BUF_LEN);
    DMA_OK(&d, TD_OP_FILL, 0, IOVA_DST, BUF_LEN, 0x0a0a0a0au, TD_PASID_VALID | pa, &res, "PASID 1 fill");
    CHECK(pattern_ok(p1, BUF_LEN, 0x0a0a0a0au), "PASID 1 did not write its own buffer");
    if (pb) {
        DMA_OK(&d, TD_OP_FILL, 0, IOVA_DST, BUF_LEN, 0x0b0b0b0bu, TD_PASID_VALID | pb, &res, "PASID 2 fill");
        CHECK(pattern_ok(p2, BUF_LEN, 0x0b0b0b0bu), "PASID 2 did not write its own buffer");
        CHECK(pattern_ok(p1, BUF_LEN, 0x0a0a0a0au), "PASID 2's DMA changed PASID 1's buffer");
    }
    /* The data path and MSI-X completions with PASID-tagged DMA. */
    snprintf(what, sizeof(what), "PASID %u", pa);
    if ((r = check_data_path(&d, &(struct bufs){ .src = b.src, .dst = p1, .aux = b.aux },
                             IOVA_SRC, IOVA_DST, TD_PASID_VALID | pa, what)) ||
        (r = check_msix(&d, b.src, p1, IOVA_SRC, IOVA_DST, TD_PASID_VALID | pa, what))) {
        return r;
    }
    /* RID (no PASID) still goes through h0. */
    if ((r = check_data_path(&d, &b, IOVA_SRC, IOVA_DST, 0, "RID with PASIDs attached"))) {
        return r;
    }
    /* Detach PASID 1: its DMA fails, PASID 2 keeps working. */
    CHECK((r = detach_pasid(&d, pa)) == 0, "%s", ioctl_err("VFIO_DEVICE_DETACH_IOMMUFD_PT(PASID 1)", -r));
    memset(p1, 0, BUF_LEN);
    res.status = 0;
    r = dma(&d, TD_OP_FILL, 0, IOVA_DST, 4096, 0x0c0c0c0cu, TD_PASID_VALID | pa, &res);
    CHECK(r == 0 && (res.status & TD_STATUS_ERROR), "PASID 1 DMA succeeded after detach");
    CHECK(first_not(p1, BUF_LEN, 0) < 0, "PASID 1's old buffer written after detach");
    if (pb) {
        DMA_OK(&d, TD_OP_FILL, 0, IOVA_DST, BUF_LEN, 0x0d0d0d0du, TD_PASID_VALID | pb, &res,
               "PASID 2 fill after PASID 1 detach");
        CHECK(pattern_ok(p2, BUF_LEN, 0x0d0d0d0du), "PASID 2 broke when PASID 1 was detached");
        /* Replace on a PASID. */
        CHECK((r = attach_pasid(&d, pb, h1)) == 0, "%s",
              ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(PASID 2 replace)", -r));
        DMA_OK(&d, TD_OP_FILL, 0, IOVA_DST, BUF_LEN, 0x0e0e0e0eu, TD_PASID_VALID | pb, &res,
               "PASID 2 after replace");
        CHECK(pattern_ok(p1, BUF_LEN, 0x0e0e0e0eu), "PASID 2 replace did not take effect");
        CHECK(pattern_ok(p2, BUF_LEN, 0x0d0d0d0du), "PASID 2's old buffer written after replace");
    } else {
        return PARTIAL("one PASID only (out_max_pasid_log2=1): no second PASID, no PASID replace");
    }
    return T_PASS;
}

/* ------------------------------------------------------------------------ */
/* 8: PASID with nesting                                                       */

/*
 * The RID and PASID 1 through different stage 1s over one stage 2.  VT-d:
 * the second nested HWPT attached to PASID 1 (its own PASID entry, PGTT =
 * nested).  Arm has no per-PASID HWPT: the guest owns the CD table, so a vSTE
 * with two CDs (S1CDMax = 1; S1DSS = SSID0: DMA without a PASID uses CD 0) and
 * CD 1 holding the second stage 1 with its own ASID.  Then a change of PASID
 * 1's stage 1 stays invisible (cached) after an invalidation of the RID's
 * stage 1, and takes effect after PASID 1's own.
 */
static int test_nested_pasid(void)
{
    struct dev d;
    struct bufs b;
    struct nested n;
    struct dma_result res;
    uint32_t pasid = TD_PASID_VALID | 1, h3 = 0;
    bool arm;
    int r;

    if ((r = dev_open(&d))) {
        return r;
    }
    if (d.max_pasid_log2 == 0) {
        return SKIP("IOMMU_GET_HW_INFO reports out_max_pasid_log2 = 0");
    }
    CHECK(bufs_alloc(&b) == 0, "out of memory");
    arm = d.hw_type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
    if ((r = nested_setup(&d, &b, &n, IOMMU_HWPT_ALLOC_PASID))) {
        return r;
    }
    if (arm) {
        arm_write_cd(s1_table(&n.s1, ARM_CD) + 8, n.s1b.ipa + S1_PAGE(ARM_L1), n.asid2);
        __sync_synchronize();
        struct iommu_hwpt_arm_smmuv3 ste = { .ste = {
            1ull /* V */ | (5ull << 1) /* Cfg = S1 translate */ | (0ull << 4) /* S1Fmt linear */ |
                ((n.s1.ipa + S1_PAGE(ARM_CD)) & 0x000fffffffffffc0ull) /* S1ContextPtr */ |
                (1ull << 59) /* S1CDMax: two CDs */,
            2ull /* S1DSS: SSID0 */ | (1ull << 2) | (1ull << 4) | (3ull << 6),
        } };
        CHECK((r = hwpt_alloc(&d, 0, n.viommu, IOMMU_HWPT_DATA_ARM_SMMUV3, &ste, sizeof(ste), &h3)) == 0,
              "%s", ioctl_err("IOMMU_HWPT_ALLOC(ARM_SMMUV3 vSTE, 2 CDs)", -r));
        CHECK((r = attach(&d, h3)) == 0, "%s", ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(vSTE, 2 CDs)", -r));
    } else {
        CHECK((r = attach(&d, n.hwpt)) == 0, "%s", ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(nested)", -r));
        r = attach_pasid(&d, 1, n.hwpt2);
        if (r) {
            return unsupported(r, "%s", ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(PASID 1, nested)", -r));
        }
    }
    if (!(rd(&d, TD_CAPS) & TD_CAPS_PASID_PATH)) {
        return SKIP("the IOMMU in front gives the device no PASID address space (TD_CAPS.PASID_PATH=0)");
    }

    /* PASID 1's VA_DST is the aux buffer (second stage 1), the RID's the dst buffer. */
    memset(b.dst, 0, BUF_LEN);
    memset(b.aux, 0, BUF_LEN);
    DMA_OK(&d, TD_OP_FILL, 0, VA_DST, BUF_LEN, 0x31313131u, pasid, &res, "nested PASID 1 fill");
    CHECK(pattern_ok(b.aux, BUF_LEN, 0x31313131u) && first_not(b.dst, BUF_LEN, 0) < 0,
          "PASID 1's fill did not go through PASID 1's stage 1 (to the aux buffer)");
    memset(b.aux, 0, BUF_LEN);
    DMA_OK(&d, TD_OP_FILL, 0, VA_DST, BUF_LEN, 0x32323232u, 0, &res, "nested RID fill with PASID 1 set up");
    CHECK(pattern_ok(b.dst, BUF_LEN, 0x32323232u) && first_not(b.aux, BUF_LEN, 0) < 0,
          "the RID's fill did not go through the RID's stage 1 (to the dst buffer)");
    if ((r = check_data_path(&d, &(struct bufs){ .src = b.src, .dst = b.aux, .aux = b.dst },
                             VA_SRC, VA_DST, pasid, "nested PASID 1"))) {
        return r;
    }

    /* Repoint PASID 1's VA_DST at the dst buffer. */
    if (arm) {
        arm_map_va(&n.s1b, VA_DST, IOVA_DST, BUF_LEN);
    } else {
        x86_map_va(&n.s1b, VA_DST, IOVA_DST, BUF_LEN);
    }
    __sync_synchronize();
    memset(b.dst, 0x11, BUF_LEN);
    memset(b.aux, 0x22, BUF_LEN);
    DMA_OK(&d, TD_OP_FILL, 0, VA_DST, BUF_LEN, 0x33333333u, pasid, &res, "PASID 1 fill before invalidating");
    CHECK(pattern_ok(b.aux, BUF_LEN, 0x33333333u) && first_not(b.dst, BUF_LEN, 0x11) < 0,
          "PASID 1: the changed stage 1 took effect before any invalidation (the IOTLB does not cache, "
          "so the invalidation checks cannot fail)");
    if ((r = nested_invalidate_dst(&d, &n, 0, BUF_LEN / 4096))) {
        return r;
    }
    DMA_OK(&d, TD_OP_FILL, 0, VA_DST, BUF_LEN, 0x34343434u, pasid, &res, "PASID 1 fill after the RID's invalidation");
    CHECK(pattern_ok(b.aux, BUF_LEN, 0x34343434u) && first_not(b.dst, BUF_LEN, 0x11) < 0,
          "PASID 1 lost its cached translation to an invalidation of the RID's stage 1 (%s)",
          arm ? "another ASID" : "another HWPT's domain ID");
    if ((r = nested_invalidate_dst(&d, &n, 1, BUF_LEN / 4096))) {
        return r;
    }
    memset(b.aux, 0x22, BUF_LEN);
    DMA_OK(&d, TD_OP_FILL, 0, VA_DST, BUF_LEN, 0x35353535u, pasid, &res, "PASID 1 fill after its invalidation");
    CHECK(pattern_ok(b.dst, BUF_LEN, 0x35353535u) && first_not(b.aux, BUF_LEN, 0x22) < 0,
          "PASID 1 still used the old stage-1 translation after its own invalidation (stale IOTLB)");
    memset(b.dst, 0, BUF_LEN);
    DMA_OK(&d, TD_OP_FILL, 0, VA_DST, BUF_LEN, 0x36363636u, 0, &res, "RID fill at the end");
    CHECK(pattern_ok(b.dst, BUF_LEN, 0x36363636u) && first_not(b.aux, BUF_LEN, 0x22) < 0,
          "the RID's translation changed with PASID 1's");
    return T_PASS;
}

/* ------------------------------------------------------------------------ */
/* 6: the kernel's own DMA API: virtio-blk and virtio-net behind the vIOMMU    */

/*
 * The host gives a virtio-blk disk (iommu_platform=on) whose first 512 bytes
 * describe it: DISK_MAGIC, then little-endian u64 data length and u64 FNV-1a
 * of the data that follows the first 4 KiB.  See scripts/guest-test.sh.
 */
#define DISK_MAGIC      "VIOMMU-GUEST-DISK-1"
#define DISK_DATA_OFF   4096

/* realpath of a sysfs link's parent PCI device; checks the DMA-API setup. */
static int virtio_behind_iommu(const char *devlink, char *why, size_t wlen)
{
    char path[PATH_MAX], feat[256], type[64], rp[PATH_MAX];

    if (!realpath(devlink, rp)) {
        snprintf(why, wlen, "%s: %s", devlink, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/features", rp);
    if (read_file(path, feat, sizeof(feat)) || strlen(feat) < 34 || feat[33] != '1') {
        snprintf(why, wlen, "%s: VIRTIO_F_ACCESS_PLATFORM (bit 33) not negotiated: iommu_platform=on missing?", rp);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/../iommu_group/type", rp);
    if (read_file(path, type, sizeof(type))) {
        snprintf(why, wlen, "%s: not in an IOMMU group", rp);
        return -1;
    }
    if (strncmp(type, "DMA", 3)) {
        snprintf(why, wlen, "%s: default domain type is %s, expected DMA/DMA-FQ", rp, type);
        return -1;
    }
    vdiag("%s: ACCESS_PLATFORM, domain %s", rp, type);
    return 0;
}

static int check_virtio_blk(const char *blk)
{
    char path[PATH_MAX], why[PATH_MAX + 128];
    enum { CHUNK = 64 * 1024 };
    uint8_t *buf = alloc_buf(CHUNK), *pat = alloc_buf(CHUNK);
    uint64_t len, sum, h = 0xcbf29ce484222325ull;
    int fd;

    CHECK(buf && pat, "out of memory");
    snprintf(path, sizeof(path), "/sys/block/%s/device", blk);
    CHECK(virtio_behind_iommu(path, why, sizeof(why)) == 0, "virtio-blk: %s", why);
    snprintf(path, sizeof(path), "/dev/%s", blk);
    fd = open(path, O_RDWR | O_DIRECT | O_SYNC);
    CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
    CHECK(pread(fd, buf, 4096, 0) == 4096, "reading %s: %s", path, strerror(errno));
    CHECK(!memcmp(buf, DISK_MAGIC, sizeof(DISK_MAGIC)), "%s has no test-disk header", path);
    memcpy(&len, buf + 32, 8);
    memcpy(&sum, buf + 40, 8);
    CHECK(len % CHUNK == 0 && len >= 4 * CHUNK, "test disk data length %" PRIu64 " invalid", len);
    /* Read everything through the DMA API (O_DIRECT: the device DMAs into our pages). */
    for (uint64_t off = 0; off < len; off += CHUNK) {
        ssize_t n = pread(fd, buf, CHUNK, DISK_DATA_OFF + off);
        CHECK(n == CHUNK, "virtio-blk read at %" PRIu64 ": %s", off, n < 0 ? strerror(errno) : "short");
        for (int i = 0; i < CHUNK; i++) {
            h ^= buf[i];
            h *= 0x100000001b3ull;
        }
    }
    CHECK(h == sum, "virtio-blk: data checksum 0x%" PRIx64 ", the host wrote 0x%" PRIx64, h, sum);
    /* Write, then read back through a different buffer. */
    for (int r = 0; r < 4; r++) {
        uint64_t off = DISK_DATA_OFF + (uint64_t)r * 3 * CHUNK % len;
        fill_random(pat, CHUNK, 100 + r);
        CHECK(pwrite(fd, pat, CHUNK, off) == CHUNK, "virtio-blk write: %s", strerror(errno));
        memset(buf, 0, CHUNK);
        CHECK(pread(fd, buf, CHUNK, off) == CHUNK, "virtio-blk read back: %s", strerror(errno));
        CHECK(!memcmp(buf, pat, CHUNK), "virtio-blk: read back differs from what was written");
    }
    close(fd);
    diag("virtio-blk %s: %" PRIu64 " bytes read and checked, 4 x 64 KiB written and read back", blk, len);
    return T_PASS;
}

static int check_virtio_net(const char *ifname)
{
    char path[PATH_MAX], why[PATH_MAX + 128], cmd[512], rx[32];
    int st;

    snprintf(path, sizeof(path), "/sys/class/net/%s/device", ifname);
    CHECK(virtio_behind_iommu(path, why, sizeof(why)) == 0, "virtio-net: %s", why);
    /* QEMU user networking: the guest is 10.0.2.15, the gateway 10.0.2.2 answers ping. */
    snprintf(cmd, sizeof(cmd),
             "ip link set %s up && ip addr add 10.0.2.15/24 dev %s && "
             "ping -c 3 -W 3 10.0.2.2 >/tmp/ping.log 2>&1", ifname, ifname);
    st = system(cmd);
    if (st != 0) {
        char log[256] = "";
        read_file("/tmp/ping.log", log, sizeof(log));
        return FAIL("virtio-net: '%s' failed (status %d): %s", cmd, st, log);
    }
    snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/rx_packets", ifname);
    CHECK(read_file(path, rx, sizeof(rx)) == 0 && atol(rx) >= 3, "virtio-net: only %s packets received", rx);
    diag("virtio-net %s: 3 pings to 10.0.2.2 answered, %s packets received", ifname, rx);
    return T_PASS;
}

static int test_dma_api(void)
{
    char blk[64] = "", net[64] = "", path[PATH_MAX], link[PATH_MAX];
    struct dirent *e;
    DIR *dir;
    int r;

    if ((dir = opendir("/sys/block"))) {
        while ((e = readdir(dir))) {
            if (!strncmp(e->d_name, "vd", 2) && !blk[0]) {
                snprintf(blk, sizeof(blk), "%s", e->d_name);
            }
        }
        closedir(dir);
    }
    if ((dir = opendir("/sys/class/net"))) {
        while ((e = readdir(dir))) {
            ssize_t n;
            snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver", e->d_name);
            n = readlink(path, link, sizeof(link) - 1);
            if (n > 0) {
                link[n] = 0;
                if (strstr(link, "virtio_net") && !net[0]) {
                    snprintf(net, sizeof(net), "%s", e->d_name);
                }
            }
        }
        closedir(dir);
    }
    if (!blk[0] && !net[0]) {
        return SKIP("no virtio-blk disk or virtio-net interface in the guest");
    }
    if (blk[0] && (r = check_virtio_blk(blk))) {
        return r;
    }
    if (net[0] && (r = check_virtio_net(net))) {
        return r;
    }
    if (!blk[0] || !net[0]) {
        return PARTIAL("only %s present", blk[0] ? "virtio-blk" : "virtio-net");
    }
    return T_PASS;
}

/* ------------------------------------------------------------------------ */
/* 7: the guest kernel reports the IOMMU fault                                 */

static char *klog_read(void)
{
    int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
    char *buf;
    int n;

    if (len <= 0) {
        len = 1 << 17;
    }
    buf = calloc(1, len + 1);
    if (!buf) {
        return NULL;
    }
    n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

static const char *fault_markers[] = {
    ": event 0x",           /* arm-smmu-v3: "event 0x10 received:" and its dump */
    "DMAR: [DMA",           /* "DMAR: [DMA Write NO_PASID] Request device ..." */
    "DMAR: DRHD: handling fault",
    NULL,
};

static int count_markers(const char *log)
{
    int n = 0;

    for (int i = 0; fault_markers[i]; i++) {
        for (const char *p = log; (p = strstr(p, fault_markers[i])); p++) {
            n++;
        }
    }
    return n;
}

static int test_fault_report(void)
{
    struct dev d;
    struct bufs b;
    struct dma_result res;
    uint32_t ioas = 0;
    char *before = NULL, *after = NULL;
    int r, nb = 0, na = 0;

    if ((r = dev_open(&d))) {
        return r;
    }
    if ((r = paging_attach(&d, &b, &ioas)) != T_PASS) {
        return r;
    }
    /*
     * The drivers rate-limit their fault messages (5 s windows); if the
     * earlier subtests used up the window, wait for the next one and retry.
     */
    for (int attempt = 0; attempt < 2 && na <= nb; attempt++) {
        if (attempt) {
            diag("no fault message yet (rate limit?), retrying after 5.5 s");
            usleep(5500000);
        }
        free(before);
        before = klog_read();
        CHECK(before, "klogctl(READ_ALL): %s", strerror(errno));
        nb = na = count_markers(before);
        DMA_FAULT(&d, TD_OP_FILL, 0, IOVA_HOLE, 4096, 0, 0, &res, TD_ERR_WRITE_FAULT,
                  IOVA_HOLE, IOVA_HOLE + 4096, "fill of an unmapped IOVA");
        /* The fault record travels through the event queue / fault registers and an IRQ. */
        for (int i = 0; i < 50 && na <= nb; i++) {
            usleep(20000);
            free(after);
            after = klog_read();
            CHECK(after, "klogctl(READ_ALL): %s", strerror(errno));
            na = count_markers(after);
        }
    }
    if (na > nb) {
        /* Show the first new marker line. */
        for (int i = 0; fault_markers[i]; i++) {
            size_t skip = strlen(before) > 200 ? strlen(before) - 200 : 0;
            const char *p = strstr(after + skip, fault_markers[i]), *e;
            if (p) {
                while (p > after && p[-1] != '\n') {
                    p--;
                }
                e = strchr(p, '\n');
                diag("kernel reported: %.*s", (int)(e ? e - p : 160), p);
                break;
            }
        }
    }
    CHECK(na > nb, "the guest kernel logged no IOMMU fault for a DMA to an unmapped IOVA");
    /* Nothing else broke: the mapped data path still works. */
    return check_data_path(&d, &b, IOVA_SRC, IOVA_DST, 0, "paging after a fault");
}

/* ------------------------------------------------------------------------ */
/* 9: dirty tracking                                                           */

#define DIRTY_PAGES     24
#define IOVA_DIRTY      0x10800000ull

static int dirty_set(struct dev *d, uint32_t hwpt, bool on)
{
    struct iommu_hwpt_set_dirty_tracking s = {
        .size = sizeof(s), .flags = on ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0, .hwpt_id = hwpt,
    };

    return ioctl(d->iommufd, IOMMU_HWPT_SET_DIRTY_TRACKING, &s) ? -errno : 0;
}

/* IOMMU_HWPT_GET_DIRTY_BITMAP over the whole buffer, one bit per page. */
static int dirty_get(struct dev *d, uint32_t hwpt, size_t pg, uint32_t flags, uint64_t *bits)
{
    uint64_t map[(DIRTY_PAGES + 63) / 64] = { 0 };
    struct iommu_hwpt_get_dirty_bitmap g = {
        .size = sizeof(g), .hwpt_id = hwpt, .flags = flags, .iova = IOVA_DIRTY,
        .length = DIRTY_PAGES * pg, .page_size = pg, .data = (uintptr_t)map,
    };

    if (ioctl(d->iommufd, IOMMU_HWPT_GET_DIRTY_BITMAP, &g)) {
        return -errno;
    }
    *bits = map[0];
    return 0;
}

static const char *page_list(uint64_t bits)
{
    static char buf[2][160];
    static int slot;
    char *b = buf[slot++ & 1];
    size_t n = 0;

    b[0] = 0;
    for (int i = 0; i < DIRTY_PAGES && n < sizeof(buf[0]) - 8; i++) {
        if (bits & (1ull << i)) {
            n += snprintf(b + n, sizeof(buf[0]) - n, "%s%d", n ? "," : "", i);
        }
    }
    return n ? b : "none";
}

/* The bitmap must name exactly the pages in want. */
#define DIRTY_EXPECT(d, h, pg, flags, want, what) do {                              \
        uint64_t got_ = 0;                                                          \
        int r_ = dirty_get(d, h, pg, flags, &got_);                                 \
        CHECK(r_ == 0, "%s: %s", what, ioctl_err("IOMMU_HWPT_GET_DIRTY_BITMAP", -r_)); \
        CHECK(got_ == (uint64_t)(want), "%s: dirty pages {%s}, expected {%s}",      \
              what, page_list(got_), page_list(want));                              \
        vdiag("%s: dirty pages {%s}", what, page_list(got_));                       \
    } while (0)

/*
 * The device writes some pages of a tracked buffer and reads others: fill and
 * copy write (one fill crosses a page boundary), checksum and the source of a
 * copy only read.  Returns the pages written.
 */
static int dirty_dma(struct dev *d, uint8_t *buf, size_t pg, const int *wr_pages, int nwr,
                     const int *rd_pages, int nrd, uint32_t pat, uint64_t *written)
{
    struct dma_result res;
    char what[96];

    *written = 0;
    for (int i = 0; i < nwr; i++) {
        uint64_t off = wr_pages[i] * pg + 64 * (i + 1);

        snprintf(what, sizeof(what), "fill in page %d", wr_pages[i]);
        DMA_OK(d, TD_OP_FILL, 0, IOVA_DIRTY + off, 256, pat + i, 0, &res, what);
        CHECK(pattern_ok(buf + off, 256, pat + i), "%s: the buffer does not hold the pattern", what);
        *written |= 1ull << wr_pages[i];
    }
    for (int i = 0; i < nrd; i++) {
        uint64_t off = rd_pages[i] * pg;

        snprintf(what, sizeof(what), "checksum of page %d", rd_pages[i]);
        DMA_OK(d, TD_OP_CHECKSUM, IOVA_DIRTY + off, 0, pg, 0, 0, &res, what);
        CHECK(res.result == fnv1a64(buf + off, pg), "%s: wrong checksum", what);
    }
    return T_PASS;
}

static int test_dirty(void)
{
    static const int wr1[] = { 1, 2, 5, 8, 13, 20 }, rd1[] = { 0, 3, 4, 7, 11, 21 };
    static const int wr2[] = { 2 }, rd2[] = { 5, 8 };
    static const int wr3[] = { 3, 6 }, wr4[] = { 7, 23 };
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    const size_t len = DIRTY_PAGES * pg;
    struct dev d;
    struct dma_result res;
    uint32_t ioas = 0, hwpt = 0;
    uint64_t want, extra;
    uint8_t *buf;
    bool arm;
    int r;

    if ((r = dev_open(&d))) {
        return r;
    }
    arm = d.hw_type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
    if (!(d.hw_caps & IOMMU_HW_CAP_DIRTY_TRACKING)) {
        return unsupported(-EOPNOTSUPP, "IOMMU_GET_HW_INFO: no IOMMU_HW_CAP_DIRTY_TRACKING "
                           "(caps 0x%llx)", (unsigned long long)d.hw_caps);
    }
    CHECK((buf = alloc_buf(len)), "out of memory");
    fill_random(buf, len, 9);
    CHECK((r = ioas_alloc(&d, &ioas)) == 0, "%s", ioctl_err("IOMMU_IOAS_ALLOC", -r));
    CHECK((r = ioas_map(&d, ioas, buf, len, IOVA_DIRTY, MAP_RW)) == 0, "%s",
          ioctl_err("IOMMU_IOAS_MAP", -r));
    r = hwpt_alloc(&d, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, ioas, IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt);
    if (r) {
        return unsupported(r, "%s", ioctl_err("IOMMU_HWPT_ALLOC(DIRTY_TRACKING)", -r));
    }
    CHECK((r = attach(&d, hwpt)) == 0, "%s", ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(dirty hwpt)", -r));
    vdiag("HWPT %u (DIRTY_TRACKING) attached, %d pages of %zu bytes at IOVA 0x%llx", hwpt,
          DIRTY_PAGES, pg, IOVA_DIRTY);

    /* Written before tracking starts: enabling takes a clean snapshot. */
    DMA_OK(&d, TD_OP_FILL, 0, IOVA_DIRTY + 9 * pg, 128, 0x99999999u, 0, &res, "fill before tracking");
    CHECK((r = dirty_set(&d, hwpt, true)) == 0, "%s",
          ioctl_err("IOMMU_HWPT_SET_DIRTY_TRACKING(on)", -r));
    DIRTY_EXPECT(&d, hwpt, pg, 0, 0, "first read after enabling");

    /* Writes (one fill across the 9/10 boundary, a copy from 12 to 14) and reads. */
    if ((r = dirty_dma(&d, buf, pg, wr1, 6, rd1, 6, 0xd1d20000u, &want))) {
        return r;
    }
    DMA_OK(&d, TD_OP_FILL, 0, IOVA_DIRTY + 10 * pg - 100, 200, 0x5a5a5a5au, 0, &res,
           "fill across pages 9 and 10");
    DMA_OK(&d, TD_OP_COPY, IOVA_DIRTY + 12 * pg + 8, IOVA_DIRTY + 14 * pg + 16, 512, 0, 0, &res,
           "copy from page 12 to page 14");
    CHECK(first_diff(buf + 12 * pg + 8, buf + 14 * pg + 16, 512) < 0, "copy 12 -> 14: wrong data");
    want |= (1ull << 9) | (1ull << 10) | (1ull << 14);
    DIRTY_EXPECT(&d, hwpt, pg, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, want, "read without clearing");
    DIRTY_EXPECT(&d, hwpt, pg, 0, want, "read and clear");
    DIRTY_EXPECT(&d, hwpt, pg, 0, 0, "read after clearing");

    /* A cleared page written again is dirty again (its clean state reached the IOMMU). */
    if ((r = dirty_dma(&d, buf, pg, wr2, 1, rd2, 2, 0xd2000000u, &want))) {
        return r;
    }
    DIRTY_EXPECT(&d, hwpt, pg, 0, want, "a cleared page written again");
    DIRTY_EXPECT(&d, hwpt, pg, 0, 0, "read after clearing again");

    /*
     * Tracking off.  VT-d clears the PASID entry's SSADE: writes set no D bit
     * and nothing is reported.  Linux's arm-smmu-v3 keeps CD.HD and the DBM
     * mappings of a dirty-tracking domain (arm_smmu_set_dirty_tracking() does
     * nothing): the SMMU keeps recording, and the bitmap still reports exactly
     * the writes.
     */
    CHECK((r = dirty_set(&d, hwpt, false)) == 0, "%s",
          ioctl_err("IOMMU_HWPT_SET_DIRTY_TRACKING(off)", -r));
    if ((r = dirty_dma(&d, buf, pg, wr3, 2, rd1, 2, 0xd3000000u, &extra))) {
        return r;
    }
    DIRTY_EXPECT(&d, hwpt, pg, 0, arm ? extra : 0, "writes with tracking off");

    /* On again: a clean snapshot, then exactly the new writes. */
    if ((r = dirty_dma(&d, buf, pg, wr3, 1, NULL, 0, 0xd4000000u, &extra))) {
        return r;
    }
    CHECK((r = dirty_set(&d, hwpt, true)) == 0, "%s",
          ioctl_err("IOMMU_HWPT_SET_DIRTY_TRACKING(on again)", -r));
    DIRTY_EXPECT(&d, hwpt, pg, 0, 0, "first read after enabling again");
    if ((r = dirty_dma(&d, buf, pg, wr4, 2, rd2, 2, 0xd5000000u, &want))) {
        return r;
    }
    DIRTY_EXPECT(&d, hwpt, pg, 0, want, "writes after enabling again");
    DIRTY_EXPECT(&d, hwpt, pg, 0, 0, "read after clearing");
    return T_PASS;
}

/* ------------------------------------------------------------------------ */
/* 10: ATS: Linux enables it, translated DMA through the device's ATC         */

/*
 * A 16-bit register of the device's config space as the kernel holds it
 * (sysfs config, not VFIO's virtualised view): 0 or -errno.
 */
static int cfg_read16(uint32_t off, uint16_t *val)
{
    char path[PATH_MAX];
    int fd, r = 0;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", dev_bdf);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    if (pread(fd, val, 2, off) != 2) {
        r = -EIO;
    }
    close(fd);
    return r;
}

/* The ATS Control register. */
static int ats_ctrl(uint16_t *ctrl)
{
    return cfg_read16(TD_CFG_ATS + PCI_ATS_CTRL, ctrl);
}

#define ATS_LEN     (4 * 4096)      /* 4 pages each side: 8 ATC entries of 32 */

static int test_ats(void)
{
    struct dev d;
    struct bufs b;
    struct dma_result res;
    uint32_t ioas = 0, misses, hits, invals;
    uint16_t before = 0, ctrl = 0;
    int r;

    if ((r = dev_open(&d))) {
        return r;
    }
    CHECK(bufs_alloc(&b) == 0, "out of memory");
    CHECK((r = ioas_alloc(&d, &ioas)) == 0, "%s", ioctl_err("IOMMU_IOAS_ALLOC", -r));
    CHECK((r = map_bufs(&d, ioas, &b)) == 0, "%s", ioctl_err("IOMMU_IOAS_MAP", -r));
    CHECK((r = ats_ctrl(&before)) == 0, "reading the ATS capability: %s", strerror(-r));
    CHECK((r = attach(&d, ioas)) == 0, "%s", ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(ioas)", -r));
    CHECK((r = ats_ctrl(&ctrl)) == 0, "reading the ATS capability: %s", strerror(-r));
    diag("ATS control 0x%04x before attach, 0x%04x attached to the paging domain", before, ctrl);
    /* The IOMMU driver enables ATS when the device joins a paging domain (pci_enable_ats()). */
    if (!ours && !(ctrl & PCI_ATS_CTRL_ENABLE)) {
        return SKIP("the kernel did not enable ATS with this IOMMU (ATS control 0x%04x)", ctrl);
    }
    CHECK(ctrl & PCI_ATS_CTRL_ENABLE, "the kernel did not enable ATS on the device (ATS control "
          "0x%04x): IOMMU without ATS, or no ATS path from the root complex", ctrl);

    /* Translated DMA: the first copy translates every page, the second hits the ATC. */
    fill_random(b.src, BUF_LEN, 10);
    memset(b.dst, 0x5a, BUF_LEN);
    misses = rd(&d, TD_ATC_MISSES);
    if (!ours && dma(&d, TD_OP_TRANSLATE, IOVA_SRC, 0, 1, 0, 0, &res) == 0 &&
        res.error == TD_ERR_NO_ATS_PATH) {
        /* QEMU 10's IOMMUs answer no Translation Request of this device (no ATS API). */
        return SKIP("ATS enabled, but the IOMMU takes no Translation Requests from the device");
    }
    DMA_OK(&d, TD_OP_COPY | TD_OP_ATS, IOVA_SRC, IOVA_DST, ATS_LEN, 0, 0, &res, "ATS copy");
    CHECK(first_diff(b.src, b.dst, ATS_LEN) < 0, "ATS copy: destination differs from source");
    CHECK(rd(&d, TD_ATC_MISSES) - misses == 8, "ATS copy: %u Translation Requests, expected 8",
          rd(&d, TD_ATC_MISSES) - misses);
    fill_random(b.src, BUF_LEN, 11);
    misses = rd(&d, TD_ATC_MISSES);
    hits = rd(&d, TD_ATC_HITS);
    DMA_OK(&d, TD_OP_COPY | TD_OP_ATS, IOVA_SRC, IOVA_DST, ATS_LEN, 0, 0, &res, "ATS copy again");
    CHECK(first_diff(b.src, b.dst, ATS_LEN) < 0, "ATS copy again: destination differs");
    CHECK(rd(&d, TD_ATC_MISSES) == misses && rd(&d, TD_ATC_HITS) - hits == 8,
          "ATS copy again: %u misses, %u hits, expected 0 and 8 (ATC hits)",
          rd(&d, TD_ATC_MISSES) - misses, rd(&d, TD_ATC_HITS) - hits);

    /*
     * Unmap the destination: the kernel must invalidate the device's ATC
     * (CMD_ATC_INV / device-TLB invalidation) before the unmap returns, so
     * the next translated write translates again, is refused, and lands nowhere.
     */
    invals = rd(&d, TD_ATS_INVALS);
    CHECK((r = ioas_unmap(&d, ioas, IOVA_DST, BUF_LEN)) == 0, "%s", ioctl_err("IOMMU_IOAS_UNMAP", -r));
    CHECK(rd(&d, TD_ATS_INVALS) > invals, "no ATS Invalidate Request reached the device on unmap");
    diag("unmap: %u Invalidate Requests, ATC %u entries valid", rd(&d, TD_ATS_INVALS) - invals,
         rd(&d, TD_ATC_VALID));
    memset(b.dst, 0x77, BUF_LEN);
    misses = rd(&d, TD_ATC_MISSES);
    DMA_FAULT(&d, TD_OP_FILL | TD_OP_ATS, 0, IOVA_DST, ATS_LEN, 0x11111111, 0, &res,
              TD_ERR_WRITE_FAULT, IOVA_DST, IOVA_DST + 4096, "ATS fill of the unmapped IOVA");
    CHECK(rd(&d, TD_ATC_MISSES) > misses, "the refused write did not translate again (stale ATC)");
    CHECK(first_not(b.dst, BUF_LEN, 0x77) < 0, "the unmapped buffer was written through the ATC");

    /* Mapped again: translated DMA works again. */
    CHECK((r = ioas_map(&d, ioas, b.dst, BUF_LEN, IOVA_DST, MAP_RW)) == 0, "%s",
          ioctl_err("IOMMU_IOAS_MAP (remap)", -r));
    DMA_OK(&d, TD_OP_COPY | TD_OP_ATS, IOVA_SRC, IOVA_DST, ATS_LEN, 0, 0, &res, "ATS copy after remap");
    CHECK(first_diff(b.src, b.dst, ATS_LEN) < 0, "ATS copy after remap: destination differs");
    return T_PASS;
}

/* ------------------------------------------------------------------------ */
/* 12: I/O page faults: PRI page requests through the iommufd fault queue     */

/*
 * Linux's VT-d driver enables PRI on the device at probe, with ATS and only
 * when the unit has ECAP.PRS and PDS (ECAP.DT: device-iotlb, on by default in
 * viommu-vtd); attaching a domain that has an iopf handler (an iommufd
 * HWPT allocated with IOMMU_HWPT_FAULT_ID_VALID) adds the device to the
 * unit's iopf queue.  A refused access of a TD_OP_PRI operation then sends a
 * Page Request and waits: it reaches the fault fd as struct iommu_hwpt_pgfault
 * (page request queue -> prq.c -> iommufd), and the response written back
 * becomes a page group response descriptor, the device's PRG Response.
 * arm-smmu-v3 in Linux takes no PCI PRI (I/O page faults only through stall),
 * so the subtest does not apply there (tests[].on).
 */

#define IOPF_PG         4096u               /* the device's page requests are for 4 KiB pages */
#define IOPF_PAGES      3
#define IOVA_IOPF_SRC   0x10a00000ull
#define IOVA_IOPF_DST   0x10b00000ull
#define IOVA_IOPF_DENY  0x10c00000ull
#define IOVA_IOPF_ATS   0x10d00000ull

/* A page a round expects one fault for, and what to map there on Success. */
struct iopf_page {
    uint64_t iova;
    uint32_t perm;          /* IOMMU_PGFAULT_PERM_* the request must carry */
    uint8_t *backing;
    uint32_t prot;          /* IOMMU_IOAS_MAP_* */
    bool seen;
};

struct iopf_round {
    const char *what;
    int fault_fd;
    uint32_t ioas;          /* where a Success maps the page */
    uint32_t pasid;         /* the DMA's TD_PASID (TD_PASID_VALID | PASID, or 0) */
    uint32_t code;          /* IOMMUFD_PAGE_RESP_* to answer */
    struct iopf_page *pages;
    int npages;
    int faults;             /* read from the fault fd */
};

static int fault_queue_alloc(struct dev *d, uint32_t *id, int *fd)
{
    struct iommu_fault_alloc a = { .size = sizeof(a) };

    if (ioctl(d->iommufd, IOMMU_FAULT_QUEUE_ALLOC, &a)) {
        return -errno;
    }
    *id = a.out_fault_id;
    *fd = (int)a.out_fault_fd;
    return 0;
}

static int hwpt_alloc_fault(struct dev *d, uint32_t flags, uint32_t ioas, uint32_t fault_id,
                            uint32_t *out)
{
    struct iommu_hwpt_alloc a = {
        .size = sizeof(a), .flags = flags | IOMMU_HWPT_FAULT_ID_VALID, .dev_id = d->devid,
        .pt_id = ioas, .data_type = IOMMU_HWPT_DATA_NONE, .fault_id = fault_id,
    };

    if (ioctl(d->iommufd, IOMMU_HWPT_ALLOC, &a)) {
        return -errno;
    }
    *out = a.out_hwpt_id;
    return 0;
}

/* A PRI register (see cfg_read16()). */
static int pri_reg(uint32_t reg, uint16_t *val)
{
    return cfg_read16(TD_CFG_PRI + reg, val);
}

/* One fault record: it must be one the round expects; map (on Success) and answer. */
static int iopf_handle(struct dev *d, struct iopf_round *rnd, const struct iommu_hwpt_pgfault *f)
{
    bool tagged = rnd->pasid & TD_PASID_VALID;
    struct iommu_hwpt_page_response rsp = { .cookie = f->cookie, .code = rnd->code };
    struct iopf_page *p = NULL;
    uint32_t prgi = rd(d, TD_PRI_PRGI), st = rd(d, TD_STATUS);
    int r;

    vdiag("%s: fault addr 0x%llx perm 0x%x flags 0x%x pasid %u grpid %u cookie %u", rnd->what,
          (unsigned long long)f->addr, f->perm, f->flags, f->pasid, f->grpid, f->cookie);
    for (int i = 0; i < rnd->npages; i++) {
        if (rnd->pages[i].iova == f->addr) {
            p = &rnd->pages[i];
        }
    }
    CHECK(p, "%s: fault at 0x%llx, not a page the DMA touches", rnd->what, (unsigned long long)f->addr);
    CHECK(!p->seen, "%s: a second fault for page 0x%llx after it was answered", rnd->what,
          (unsigned long long)f->addr);
    CHECK(f->dev_id == d->devid, "%s: fault of dev_id %u, expected %u", rnd->what, f->dev_id, d->devid);
    CHECK(f->perm == p->perm, "%s: page 0x%llx: perm 0x%x, expected 0x%x (%s)", rnd->what,
          (unsigned long long)f->addr, f->perm, p->perm,
          p->perm == IOMMU_PGFAULT_PERM_READ ? "a read" : "a write");
    CHECK(f->flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE, "%s: flags 0x%x without LAST_PAGE (the device "
          "sends groups of one)", rnd->what, f->flags);
    if (tagged) {
        CHECK((f->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) &&
              f->pasid == (rnd->pasid & TD_PASID_VALUE_MASK),
              "%s: flags 0x%x pasid %u, expected PASID_VALID and PASID %u", rnd->what, f->flags,
              f->pasid, rnd->pasid & TD_PASID_VALUE_MASK);
    } else {
        CHECK(!(f->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID), "%s: flags 0x%x with PASID_VALID "
              "(pasid %u) for an untagged request", rnd->what, f->flags, f->pasid);
    }
    /* One request is outstanding at a time: the device's last PRG index is this one. */
    CHECK(f->grpid == prgi, "%s: grpid %u, the device sent PRG index %u", rnd->what, f->grpid, prgi);
    CHECK((st & TD_STATUS_BUSY) && (st & TD_STATUS_PRI_WAIT), "%s: device status 0x%x, expected "
          "BUSY + PRI_WAIT while its page request is unanswered", rnd->what, st);
    p->seen = true;
    rnd->faults++;
    if (rnd->code == IOMMUFD_PAGE_RESP_SUCCESS) {
        r = ioas_map(d, rnd->ioas, p->backing, IOPF_PG, p->iova, p->prot);
        CHECK(r == 0, "%s: %s", rnd->what, ioctl_err("IOMMU_IOAS_MAP (faulting page)", -r));
    }
    CHECK(write(rnd->fault_fd, &rsp, sizeof(rsp)) == (ssize_t)sizeof(rsp), "%s: writing the page "
          "response: %s", rnd->what, strerror(errno));
    return T_PASS;
}

/*
 * Run one TD_OP_PRI operation and serve its faults until it ends; then no
 * fault may be left in the queue.
 */
static int iopf_dma(struct dev *d, struct iopf_round *rnd, uint32_t op, uint64_t src, uint64_t dst,
                    uint32_t len, uint32_t pattern, struct dma_result *res)
{
    uint64_t deadline = now_ns() + DMA_TIMEOUT_NS;
    struct iommu_hwpt_pgfault f[4];
    struct pollfd pfd = { .fd = rnd->fault_fd, .events = POLLIN };
    ssize_t n;
    int r;

    dma_start(d, op | TD_OP_PRI, src, dst, len, pattern, rnd->pasid, 0);
    while (rd(d, TD_STATUS) & TD_STATUS_BUSY) {
        if (now_ns() > deadline) {
            uint32_t st = rd(d, TD_STATUS), sent = rd(d, TD_PRI_REQUESTS);
            uint16_t pst = 0;

            pri_reg(PCI_PRI_STATUS, &pst);
            wr(d, TD_CMD, TD_CMD_RESET);
            return FAIL("%s: device still busy after 10 s (status 0x%x, %u page requests sent, "
                        "%d faults read, PRI status 0x%04x: %s)", rnd->what, st, sent, rnd->faults,
                        pst, (st & TD_STATUS_PRI_WAIT) && sent > (uint32_t)rnd->faults ?
                        "a page request never reached the fault queue" :
                        pst & PCI_PRI_STATUS_UPRGI ? "a PRG Response that matched nothing "
                        "outstanding reached the device (UPRGI)" :
                        "no PRG Response reached the device");
        }
        if (poll(&pfd, 1, 20) <= 0 || !(pfd.revents & POLLIN)) {
            continue;
        }
        n = read(rnd->fault_fd, f, sizeof(f));
        CHECK(n >= 0 && n % (ssize_t)sizeof(f[0]) == 0, "%s: reading the fault fd: %zd (%s)",
              rnd->what, n, n < 0 ? strerror(errno) : "not a whole number of records");
        for (int i = 0; i < n / (ssize_t)sizeof(f[0]); i++) {
            if ((r = iopf_handle(d, rnd, &f[i]))) {
                wr(d, TD_CMD, TD_CMD_RESET);
                return r;
            }
        }
    }
    CHECK((r = dma_wait(d, res)) == 0, "%s: device did not complete (%s)", rnd->what, strerror(-r));
    CHECK(poll(&pfd, 1, 50) == 0, "%s: a fault is left in the queue after the operation ended",
          rnd->what);
    CHECK(rd(d, TD_PRI_REQUESTS) == (uint32_t)rnd->faults, "%s: the device sent %u page requests, "
          "the fault fd delivered %d", rnd->what, rd(d, TD_PRI_REQUESTS), rnd->faults);
    for (int i = 0; i < rnd->npages; i++) {
        CHECK(rnd->pages[i].seen, "%s: no fault for page 0x%llx", rnd->what,
              (unsigned long long)rnd->pages[i].iova);
    }
    return T_PASS;
}

static int test_iopf(void)
{
    struct dev d;
    struct dma_result res;
    struct iopf_page pg[2 * IOPF_PAGES], ats_pg, deny_pg, pasid_pg;
    struct iopf_round rnd;
    uint32_t ioas = 0, ioas1 = 0, fault_id = 0, hwpt = 0, hwpt1 = 0, misses;
    const uint32_t len = (IOPF_PAGES - 1) * IOPF_PG + 0x200;
    uint8_t *src, *dst, *deny, *p1, *ats;
    uint16_t ctrl = 0;
    int ffd = -1, r;
    long off;

    if ((r = dev_open(&d))) {
        return r;
    }
    CHECK((src = alloc_buf(IOPF_PAGES * IOPF_PG)) && (dst = alloc_buf(IOPF_PAGES * IOPF_PG)) &&
          (deny = alloc_buf(IOPF_PG)) && (p1 = alloc_buf(IOPF_PG)) && (ats = alloc_buf(IOPF_PG)),
          "out of memory");
    CHECK((r = pri_reg(PCI_PRI_CTRL, &ctrl)) == 0, "reading the PRI capability: %s", strerror(-r));
    diag("PRI control 0x%04x", ctrl);
    if (!(ctrl & PCI_PRI_CTRL_ENABLE)) {
        return SKIP("the kernel did not enable PRI on the device (PRI control 0x%04x): IOMMU "
                    "without page requests (ECAP.PRS/PDS) or ATS off", ctrl);
    }
    r = fault_queue_alloc(&d, &fault_id, &ffd);
    if (r) {
        return unsupported(r, "%s", ioctl_err("IOMMU_FAULT_QUEUE_ALLOC", -r));
    }
    CHECK((r = ioas_alloc(&d, &ioas)) == 0 && (r = ioas_alloc(&d, &ioas1)) == 0, "%s",
          ioctl_err("IOMMU_IOAS_ALLOC", -r));
    /* PASID-capable, so that PASID 1 can take a fault HWPT of its own below. */
    r = hwpt_alloc_fault(&d, IOMMU_HWPT_ALLOC_PASID, ioas, fault_id, &hwpt);
    if (r) {
        return unsupported(r, "%s", ioctl_err("IOMMU_HWPT_ALLOC(FAULT_ID_VALID | PASID)", -r));
    }
    r = attach(&d, hwpt);
    if (r) {
        /* -ENODEV: intel_iommu_enable_iopf() without PRI enabled. */
        return unsupported(r, "%s", ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(fault hwpt)", -r));
    }
    vdiag("fault queue %u (fd %d), HWPT %u (FAULT_ID_VALID) attached", fault_id, ffd, hwpt);

    /*
     * Round 1: a copy from 3 unmapped source pages to 3 unmapped destination
     * pages, both unaligned.  Each page faults once (read for the source,
     * write for the destination), is mapped and answered Success; the copy
     * then completes with the right data.
     */
    fill_random(src, IOPF_PAGES * IOPF_PG, 12);
    memset(dst, 0x5a, IOPF_PAGES * IOPF_PG);
    for (int i = 0; i < IOPF_PAGES; i++) {
        pg[i] = (struct iopf_page) { .iova = IOVA_IOPF_SRC + i * IOPF_PG,
            .perm = IOMMU_PGFAULT_PERM_READ, .backing = src + i * IOPF_PG,
            .prot = IOMMU_IOAS_MAP_READABLE };
        pg[IOPF_PAGES + i] = (struct iopf_page) { .iova = IOVA_IOPF_DST + i * IOPF_PG,
            .perm = IOMMU_PGFAULT_PERM_WRITE, .backing = dst + i * IOPF_PG, .prot = MAP_RW };
    }
    rnd = (struct iopf_round) { .what = "copy through 6 faulting pages", .fault_fd = ffd,
        .ioas = ioas, .code = IOMMUFD_PAGE_RESP_SUCCESS, .pages = pg, .npages = 2 * IOPF_PAGES };
    if ((r = iopf_dma(&d, &rnd, TD_OP_COPY, IOVA_IOPF_SRC + 0x100, IOVA_IOPF_DST + 0x300, len, 0,
                      &res))) {
        return r;
    }
    CHECK(!(res.status & TD_STATUS_ERROR), "%s: device error %s at 0x%" PRIx64, rnd.what,
          td_err_name(res.error), res.fault_addr);
    off = first_diff(src + 0x100, dst + 0x300, len);
    CHECK(off < 0, "%s: destination differs from source at offset %ld", rnd.what, off);
    CHECK(first_not(dst, 0x300, 0x5a) < 0 &&
          first_not(dst + 0x300 + len, IOPF_PAGES * IOPF_PG - 0x300 - len, 0x5a) < 0,
          "%s: bytes outside the destination range changed", rnd.what);
    diag("%s: %d faults served, data right", rnd.what, rnd.faults);
    /* Mapped now: the same copy needs no page request. */
    memset(dst, 0x5a, IOPF_PAGES * IOPF_PG);
    DMA_OK(&d, TD_OP_COPY | TD_OP_PRI, IOVA_IOPF_SRC + 0x100, IOVA_IOPF_DST + 0x300, len, 0, 0, &res,
           "copy again, all pages mapped");
    CHECK(rd(&d, TD_PRI_REQUESTS) == 0, "copy again: %u page requests for mapped pages",
          rd(&d, TD_PRI_REQUESTS));
    CHECK(first_diff(src + 0x100, dst + 0x300, len) < 0, "copy again: wrong data");

    /*
     * Round 1b: the PCIe way, ATS + PRI.  The Translation Request for an
     * unmapped page completes with R = W = 0 (no fault record), the device
     * sends the page request, and after Success translates again and writes
     * through its ATC.
     */
    memset(ats, 0, IOPF_PG);
    ats_pg = (struct iopf_page) { .iova = IOVA_IOPF_ATS, .perm = IOMMU_PGFAULT_PERM_WRITE,
        .backing = ats, .prot = MAP_RW };
    rnd = (struct iopf_round) { .what = "ATS fill", .fault_fd = ffd, .ioas = ioas,
        .code = IOMMUFD_PAGE_RESP_SUCCESS, .pages = &ats_pg, .npages = 1 };
    misses = rd(&d, TD_ATC_MISSES);
    if ((r = iopf_dma(&d, &rnd, TD_OP_FILL | TD_OP_ATS, 0, IOVA_IOPF_ATS, IOPF_PG, 0x1f2e3d4cu,
                      &res))) {
        return r;
    }
    CHECK(!(res.status & TD_STATUS_ERROR), "%s: device error %s at 0x%" PRIx64, rnd.what,
          td_err_name(res.error), res.fault_addr);
    CHECK(pattern_ok(ats, IOPF_PG, 0x1f2e3d4cu), "%s: the page does not hold the pattern", rnd.what);
    CHECK(rd(&d, TD_ATC_MISSES) - misses == 2, "%s: %u Translation Requests, expected 2 (before "
          "and after the page request)", rnd.what, rd(&d, TD_ATC_MISSES) - misses);
    diag("%s: Translation Request, page request, Success, translated write", rnd.what);

    /*
     * Round 2: answered Invalid Request.  The device ends the operation with
     * PRI_DENIED at the page, sends nothing more, and nothing is written.
     */
    memset(deny, 0x77, IOPF_PG);
    deny_pg = (struct iopf_page) { .iova = IOVA_IOPF_DENY, .perm = IOMMU_PGFAULT_PERM_WRITE,
        .backing = deny, .prot = MAP_RW };
    rnd = (struct iopf_round) { .what = "fill answered Invalid Request", .fault_fd = ffd,
        .ioas = ioas, .code = IOMMUFD_PAGE_RESP_INVALID, .pages = &deny_pg, .npages = 1 };
    if ((r = iopf_dma(&d, &rnd, TD_OP_FILL, 0, IOVA_IOPF_DENY + 0x80, 256, 0xdeadbeefu, &res))) {
        return r;
    }
    CHECK(res.status & TD_STATUS_ERROR, "%s: the DMA succeeded", rnd.what);
    CHECK(res.error == TD_ERR_PRI_DENIED, "%s: device error %s, expected PRI_DENIED", rnd.what,
          td_err_name(res.error));
    CHECK(res.fault_addr >= IOVA_IOPF_DENY && res.fault_addr < IOVA_IOPF_DENY + IOPF_PG,
          "%s: fault address 0x%" PRIx64 " outside the page", rnd.what, res.fault_addr);
    /* Mapped only now: had anything reached memory, the page would show it. */
    CHECK((r = ioas_map(&d, ioas, deny, IOPF_PG, IOVA_IOPF_DENY, MAP_RW)) == 0, "%s",
          ioctl_err("IOMMU_IOAS_MAP (denied page)", -r));
    CHECK(first_not(deny, IOPF_PG, 0x77) < 0, "%s: the denied page was written", rnd.what);
    diag("%s: PRI_DENIED, nothing written", rnd.what);

    /*
     * Round 3: PASID 1 through a fault HWPT of its own (iommufd attaches a
     * fault-capable HWPT to a PASID: iommu_attach_device_pasid(), the VT-d
     * driver's set_dev_pasid adds the iopf reference).  The PASID-tagged
     * request reports PASID_VALID + PASID 1, the response carries the PASID
     * (PRG Response PASID Required), and the data lands in PASID 1's address
     * space, not at the same IOVA of the RID's.
     */
    if (d.max_pasid_log2 == 0 || !(rd(&d, TD_CAPS) & TD_CAPS_PASID_PATH)) {
        return PARTIAL("PASID round not run (out_max_pasid_log2 %u, TD_CAPS 0x%x)", d.max_pasid_log2,
                       rd(&d, TD_CAPS));
    }
    CHECK((r = hwpt_alloc_fault(&d, IOMMU_HWPT_ALLOC_PASID, ioas1, fault_id, &hwpt1)) == 0, "%s",
          ioctl_err("IOMMU_HWPT_ALLOC(FAULT_ID_VALID | PASID) for PASID 1", -r));
    r = attach_pasid(&d, 1, hwpt1);
    if (r) {
        return unsupported(r, "%s", ioctl_err("VFIO_DEVICE_ATTACH_IOMMUFD_PT(PASID 1, fault hwpt)", -r));
    }
    memset(p1, 0, IOPF_PG);
    memset(dst, 0x5a, IOPF_PAGES * IOPF_PG);
    pasid_pg = (struct iopf_page) { .iova = IOVA_IOPF_DST, .perm = IOMMU_PGFAULT_PERM_WRITE,
        .backing = p1, .prot = MAP_RW };
    rnd = (struct iopf_round) { .what = "PASID 1 fill", .fault_fd = ffd, .ioas = ioas1,
        .pasid = TD_PASID_VALID | 1, .code = IOMMUFD_PAGE_RESP_SUCCESS, .pages = &pasid_pg,
        .npages = 1 };
    if ((r = iopf_dma(&d, &rnd, TD_OP_FILL, 0, IOVA_IOPF_DST + 0x40, IOPF_PG - 0x80, 0x0a0b0c0du,
                      &res))) {
        return r;
    }
    CHECK(!(res.status & TD_STATUS_ERROR), "%s: device error %s at 0x%" PRIx64, rnd.what,
          td_err_name(res.error), res.fault_addr);
    CHECK(pattern_ok(p1 + 0x40, IOPF_PG - 0x80, 0x0a0b0c0du) && first_not(p1, 0x40, 0) < 0 &&
          first_not(p1 + IOPF_PG - 0x40, 0x40, 0) < 0,
          "%s: PASID 1's page does not hold exactly the fill", rnd.what);
    CHECK(first_not(dst, IOPF_PAGES * IOPF_PG, 0x5a) < 0, "%s: the RID's page at the same IOVA "
          "was written", rnd.what);
    diag("%s: fault with PASID 1 served, data in PASID 1's space", rnd.what);
    CHECK((r = detach_pasid(&d, 1)) == 0, "%s", ioctl_err("VFIO_DEVICE_DETACH_IOMMUFD_PT(PASID 1)", -r));
    return T_PASS;
}

/* ------------------------------------------------------------------------ */
/* 11: SVA through our guest kernel driver                                    */

/*
 * The device is bound to our kernel driver (tests/guest/kdriver/, by
 * driver_override), which binds this process's address space to it
 * (iommu_sva_bind_device) and runs PASID-tagged DMA on our own virtual
 * addresses: the IOMMU walks this process's CPU page tables.
 */

/* One operation of the device on user addresses; the device's TD_ERR_*, or -errno. */
static int sva_op(int fd, uint32_t op, const void *src, void *dst, uint32_t len,
                  uint32_t pattern, struct viommu_sva_dma *out)
{
    struct viommu_sva_dma a = {
        .op = op, .len = len, .src = (uintptr_t)src, .dst = (uintptr_t)dst,
        .pattern = pattern,
    };

    int e = ioctl(fd, VIOMMU_SVA_DMA, &a) ? -errno : 0;

    if (out) {
        *out = a;       /* on -errno: the request as sent, no results */
    }
    return e ? e : (int)a.error;
}

static bool bytes_are(const uint8_t *p, size_t len, uint8_t v)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != v) {
            return false;
        }
    }
    return true;
}

static bool fill_ok(const uint8_t *p, size_t len, uint32_t pattern)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != (uint8_t)(pattern >> (8 * (i % 4)))) {
            return false;
        }
    }
    return true;
}

/*
 * The device's PRI capability (extended capability ID 0x13 at TD_CFG_PRI,
 * absent with pri=off) and its Control.Enable, which the kernel sets when it
 * handles I/O page faults by PRI.
 */
static bool sva_pri_state(bool *present)
{
    char path[PATH_MAX];
    uint32_t hdr = 0;
    uint16_t ctl = 0;
    int fd;

    *present = false;
    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", dev_bdf);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    if (pread(fd, &hdr, 4, TD_CFG_PRI) != 4 || pread(fd, &ctl, 2, TD_CFG_PRI + 4) != 2) {
        hdr = ctl = 0;
    }
    close(fd);
    *present = (hdr & 0xffff) == 0x13;
    return *present && (ctl & 1);
}

/*
 * Does the device's IOMMU take page requests?  Only VT-d says so in sysfs
 * (ECAP.PRS, bit 29; with PDS, bit 42, Linux then enables PRI on a device
 * with ATS).  The SMMUv3 driver never enables PRI on a device.
 */
static bool sva_iommu_takes_page_requests(void)
{
    char path[PATH_MAX], v[64];
    unsigned long long ecap;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu/intel-iommu/ecap", dev_bdf);
    if (read_file(path, v, sizeof(v))) {
        return false;
    }
    ecap = strtoull(v, NULL, 16);
    return (ecap >> 29 & 1) && (ecap >> 42 & 1);
}

#define SVA_LEN     (3 * 4096 + 1000)       /* crosses three page boundaries */
#define SVA_ERR(e, r) (e), (e) >= 0 ? "device error" : strerror(-(e)), \
                      (unsigned long long)(r).fault_addr

/*
 * Does the IOMMU stall the device's faulting accesses?  Linux's arm-smmu-v3
 * stalls a device whose firmware node says "dma-can-stall" when the SMMU's
 * stall model allows it (our viommu-smmuv3,stall=on puts the property in the
 * device tree), and then handles its I/O page faults from stall events.
 */
static bool sva_dev_stalls(void)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/of_node/dma-can-stall", dev_bdf);
    return access(path, F_OK) == 0;
}

/*
 * Not-yet-faulted pages (I/O page faults), the two ways Linux handles them:
 *
 * - PRI (stall false): the device sends a page request for each refused page
 *   (TD_OP_PRI), the kernel's IOPF handler faults the page into this process
 *   and answers, the device retries.  Where the kernel enabled PRI on the
 *   device (VT-d with page requests, ECAP.PRS; Linux 7.3's SMMUv3 driver
 *   never enables PRI in a PCI device).
 * - Stall (stall true, SMMUv3 stall model): the SMMU holds the refused access
 *   and records a stall event, the IOPF handler faults the page in and
 *   resumes the access (CMD_RESUME Retry); no page requests.
 */
static int sva_unfaulted(int fd, long pg, bool stall)
{
    const char *how = stall ? "stalled" : "IOPF";
    uint32_t flag = stall ? 0 : TD_OP_PRI;
    struct viommu_sva_dma r;
    uint8_t *lazy = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                         -1, 0);
    uint8_t *dst = alloc_buf(pg);
    int e;

    CHECK(lazy != MAP_FAILED && dst, "mmap: %s", strerror(errno));
    /* A write into three pages nobody touched: the kernel must fault them in. */
    e = sva_op(fd, TD_OP_FILL | flag, NULL, lazy + 100, 2 * pg + 50, 0x600df00du, &r);
    CHECK(e == TD_ERR_NONE, "%s fill of untouched pages: %d (%s), fault address 0x%llx", how,
          SVA_ERR(e, r));
    CHECK((stall ? r.stalls : r.pri_requests) >= 3,
          "%s fill of three untouched pages: %u %s, expected one per page", how,
          stall ? r.stalls : r.pri_requests, stall ? "holds" : "page requests");
    CHECK(!stall || r.pri_requests == 0, "a stalling device sent %u page requests",
          r.pri_requests);
    CHECK(fill_ok(lazy + 100, 2 * pg + 50, 0x600df00du) && bytes_are(lazy, 100, 0),
          "%s fill: the process does not see the device's data", how);
    /* A read of an untouched page: faulted in as zeroes. */
    memset(dst, 0xee, pg);
    e = sva_op(fd, TD_OP_COPY | flag, lazy + 3 * pg, dst, pg, 0, &r);
    CHECK(e == TD_ERR_NONE, "%s copy from an untouched page: %d (%s), fault address 0x%llx",
          how, SVA_ERR(e, r));
    CHECK(bytes_are(dst, pg, 0), "%s read of an untouched page is not zero", how);
    /* Outside any mapping the kernel answers Invalid Request / resumes with Abort. */
    munmap(lazy, 4 * pg);
    e = sva_op(fd, TD_OP_FILL | flag, NULL, lazy, 64, 1, &r);
    if (stall) {
        CHECK(e == TD_ERR_WRITE_FAULT && r.stalls == 1, "a stalled write to an unmapped "
              "address: error %d after %u holds, expected WRITE_FAULT after one", e, r.stalls);
    } else {
        CHECK(e == TD_ERR_PRI_DENIED || e == TD_ERR_WRITE_FAULT,
              "IOPF write to an unmapped address: error %d, expected PRI denied", e);
    }
    munmap(dst, pg);
    return T_PASS;
}

/*
 * ATS with the bond's PASID: the device translates the process's addresses
 * through the IOMMU (PASID-tagged Translation Requests) into its ATC, and
 * munmap must reach that ATC (SMMUv3 CMD_ATC_INV with the SSID, VT-d
 * PASID-based device-TLB invalidation) before it returns.
 */
static int sva_ats(int fd, long pg)
{
    struct viommu_sva_dma r;
    uint8_t *buf = alloc_buf(3 * pg);
    uint32_t misses, hits, invals;
    int e;

    CHECK(buf, "mmap: %s", strerror(errno));
    memset(buf, 0x66, 3 * pg);
    e = sva_op(fd, TD_OP_FILL | TD_OP_ATS, NULL, buf, 3 * pg, 0x77777777u, &r);
    CHECK(e == TD_ERR_NONE && bytes_are(buf, 3 * pg, 0x77),
          "ATS fill with the PASID: %d (%s), fault address 0x%llx", SVA_ERR(e, r));
    misses = r.atc_misses;
    hits = r.atc_hits;
    e = sva_op(fd, TD_OP_FILL | TD_OP_ATS, NULL, buf, 3 * pg, 0x78787878u, &r);
    CHECK(e == TD_ERR_NONE && bytes_are(buf, 3 * pg, 0x78), "second ATS fill: %d", e);
    CHECK(r.atc_misses == misses && r.atc_hits - hits == 3,
          "second ATS fill: %u Translation Requests and %u ATC hits, expected 0 and 3",
          r.atc_misses - misses, r.atc_hits - hits);
    invals = r.ats_invals;
    CHECK(munmap(buf + pg, pg) == 0, "munmap: %s", strerror(errno));
    e = sva_op(fd, TD_OP_FILL | TD_OP_ATS, NULL, buf, 3 * pg, 0x79797979u, &r);
    CHECK(r.ats_invals > invals, "munmap sent the device no ATS Invalidate Request");
    CHECK(e == TD_ERR_WRITE_FAULT && r.fault_addr == (uintptr_t)(buf + pg),
          "ATS fill through an unmapped page: error %d at 0x%llx, expected WRITE_FAULT at %p "
          "(a stale ATC entry?)", e, (unsigned long long)r.fault_addr, (void *)(buf + pg));
    CHECK(bytes_are(buf, pg, 0x79) && bytes_are(buf + 2 * pg, pg, 0x78),
          "ATS fill through a hole: the page before must be written, the page after not");
    munmap(buf, pg);
    munmap(buf + 2 * pg, pg);
    return T_PASS;
}

static int sva_run(int fd)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t heap_len = SVA_LEN + 2 * pg;
    struct viommu_sva_dma r;
    uint32_t pasid = 0, pasid2 = 0, busy;
    uint16_t ats = 0;
    bool pri_cap;
    uint8_t *src, *heap, *dst, *hole, *ro;
    int e;

    if (ioctl(fd, VIOMMU_SVA_BIND, &pasid)) {
        e = errno;
        if (!ours) {
            return SKIP("%s", ioctl_err("VIOMMU_SVA_BIND (iommu_sva_bind_device)", e));
        }
        return FAIL("%s: the kernel log says why", ioctl_err("VIOMMU_SVA_BIND (iommu_sva_bind_device)", e));
    }
    vdiag("bound this process's mm, PASID %u", pasid);
    CHECK(pasid != 0 && pasid <= TD_PASID_VALUE_MASK, "bind returned PASID %u", pasid);
    CHECK(ioctl(fd, VIOMMU_SVA_BIND, &busy) < 0 && errno == EBUSY,
          "a second bind on the same descriptor did not fail with EBUSY");

    /* Pre-faulted memory: populated anonymous pages and a malloc'd, mlock'ed buffer. */
    src = alloc_buf(4 * pg);
    heap = malloc(heap_len);
    CHECK(src && heap, "allocating buffers: %s", strerror(errno));
    CHECK(mlock(heap, heap_len) == 0, "mlock: %s", strerror(errno));
    fill_random(src, 4 * pg, 0x5a5a);
    memset(heap, 0x5a, heap_len);
    dst = heap + pg / 2 + 13;               /* unaligned, page-crossing */

    e = sva_op(fd, TD_OP_FILL, NULL, dst, SVA_LEN, 0xa1b2c3d4u, &r);
    if (e == TD_ERR_NO_PASID_PATH && !ours) {
        return SKIP("the device has no PASID path to this IOMMU (error %d)", e);
    }
    CHECK(e == TD_ERR_NONE, "fill of a malloc'd buffer by virtual address: %d (%s), "
          "fault address 0x%llx", SVA_ERR(e, r));
    CHECK(r.pasid == pasid, "the driver tagged the DMA with PASID %u, not %u", r.pasid, pasid);
    CHECK(fill_ok(dst, SVA_LEN, 0xa1b2c3d4u), "the process does not see the device's fill");
    CHECK(bytes_are(heap, dst - heap, 0x5a) &&
          bytes_are(dst + SVA_LEN, heap + heap_len - (dst + SVA_LEN), 0x5a),
          "the fill wrote outside its range");

    e = sva_op(fd, TD_OP_COPY, src + 7, dst, SVA_LEN, 0, &r);
    CHECK(e == TD_ERR_NONE, "copy: %d (%s), fault address 0x%llx", SVA_ERR(e, r));
    CHECK(memcmp(dst, src + 7, SVA_LEN) == 0, "the copy's data differs from its source");
    CHECK(bytes_are(heap, dst - heap, 0x5a), "the copy wrote before its range");

    e = sva_op(fd, TD_OP_CHECKSUM, src, NULL, 4 * pg, 0, &r);
    CHECK(e == TD_ERR_NONE, "checksum: %d (%s), fault address 0x%llx", SVA_ERR(e, r));
    CHECK(r.result == fnv1a64(src, 4 * pg), "the device's checksum 0x%llx is not the CPU's",
          (unsigned long long)r.result);

    /* A CPU store is what the device reads next (one coherent address space). */
    dst[5000] ^= 0xff;
    e = sva_op(fd, TD_OP_COMPARE, src + 7, dst, SVA_LEN, 0, &r);
    CHECK(e == TD_ERR_NONE && (r.status & TD_STATUS_MISMATCH) && r.result == 5000,
          "compare after a CPU store: error %d, status 0x%x, offset %lld (expected 5000)",
          e, r.status, (long long)r.result);

    /*
     * An unmapped address faults, after it was used: munmap must reach the
     * IOMMU (the kernel's mmu notifier invalidates the PASID's translations),
     * or the device would still write the freed page.
     */
    hole = alloc_buf(3 * pg);
    CHECK(hole, "mmap: %s", strerror(errno));
    memset(hole, 0x11, 3 * pg);
    e = sva_op(fd, TD_OP_FILL, NULL, hole, 3 * pg, 0x22222222u, &r);
    CHECK(e == TD_ERR_NONE && bytes_are(hole, 3 * pg, 0x22), "fill of the pages to unmap: %d", e);
    CHECK(munmap(hole + pg, pg) == 0, "munmap: %s", strerror(errno));
    e = sva_op(fd, TD_OP_FILL, NULL, hole, 3 * pg, 0x33333333u, &r);
    CHECK(e == TD_ERR_WRITE_FAULT, "a write through an unmapped page: error %d, expected "
          "WRITE_FAULT (%d): a stale translation after munmap?", e, TD_ERR_WRITE_FAULT);
    CHECK(r.fault_addr == (uintptr_t)(hole + pg), "write fault at 0x%llx, expected %p",
          (unsigned long long)r.fault_addr, (void *)(hole + pg));
    CHECK(bytes_are(hole, pg, 0x33) && bytes_are(hole + 2 * pg, pg, 0x22),
          "a faulting fill: its first page must be written, the page after the hole not");
    memcpy(dst, src, 64);
    e = sva_op(fd, TD_OP_COPY, hole + pg + 8, dst, 64, 0, &r);
    CHECK(e == TD_ERR_READ_FAULT && r.fault_addr == (uintptr_t)(hole + pg + 8),
          "a read of an unmapped page: error %d at 0x%llx, expected READ_FAULT at %p", e,
          (unsigned long long)r.fault_addr, (void *)(hole + pg + 8));
    CHECK(memcmp(dst, src, 64) == 0, "a faulting copy wrote its destination");
    munmap(hole, pg);
    munmap(hole + 2 * pg, pg);

    /* A read-only page: readable, and the device's write faults. */
    ro = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    CHECK(ro != MAP_FAILED, "mmap: %s", strerror(errno));
    e = sva_op(fd, TD_OP_COPY, ro, dst, 64, 0, &r);
    CHECK(e == TD_ERR_NONE && bytes_are(dst, 64, 0), "copy from a read-only page: %d", e);
    e = sva_op(fd, TD_OP_FILL, NULL, ro, 64, 0x44444444u, &r);
    CHECK(e == TD_ERR_WRITE_FAULT && r.fault_addr == (uintptr_t)ro,
          "a write to a read-only page: error %d at 0x%llx, expected WRITE_FAULT", e,
          (unsigned long long)r.fault_addr);
    CHECK(bytes_are(ro, pg, 0), "the device wrote a read-only page");
    munmap(ro, pg);

    CHECK((e = ats_ctrl(&ats)) == 0, "reading the ATS capability: %s", strerror(-e));
    if (ats & PCI_ATS_CTRL_ENABLE) {
        int code = sva_ats(fd, pg);
        if (code != T_PASS) {
            return code;
        }
        vdiag("ATS with the PASID: translated DMA through the ATC, invalidated by munmap");
    } else if (ours) {
        return FAIL("the kernel did not enable ATS on the device (ATS control 0x%04x)", ats);
    }

    if (getenv("VIOMMU_EXPECT_STALL") && !sva_dev_stalls()) {
        return FAIL("the SMMU stalls (stall=on) but the device has no dma-can-stall in "
                    "its device-tree node (/sys/bus/pci/devices/%s/of_node)", dev_bdf);
    }
    if (sva_dev_stalls()) {
        int code = sva_unfaulted(fd, pg, true);
        if (code != T_PASS) {
            return code;
        }
        vdiag("not-yet-faulted pages: faulted in through stall events and CMD_RESUME");
    } else if (sva_pri_state(&pri_cap)) {
        int code = sva_unfaulted(fd, pg, false);
        if (code != T_PASS) {
            return code;
        }
        vdiag("not-yet-faulted pages: faulted in through PRI page requests");
    } else if (ours && pri_cap && sva_iommu_takes_page_requests()) {
        return FAIL("the IOMMU takes page requests (VT-d ECAP.PRS and PDS) and the device "
                    "has PRI, but the kernel did not enable it: no I/O page faults");
    } else {
        diag("PRI is not enabled on the device: the not-yet-faulted (IOPF) part does not run");
    }

    /* Unbind: no DMA without a bond; a new bond works (same PASID: it is the mm's). */
    CHECK(ioctl(fd, VIOMMU_SVA_UNBIND) == 0, "%s", ioctl_err("VIOMMU_SVA_UNBIND", errno));
    e = sva_op(fd, TD_OP_FILL, NULL, dst, 64, 0, &r);
    CHECK(e == -ENOENT, "DMA after unbind: %d, expected -ENOENT", e);
    CHECK(ioctl(fd, VIOMMU_SVA_BIND, &pasid2) == 0, "%s",
          ioctl_err("VIOMMU_SVA_BIND (again)", errno));
    CHECK(pasid2 == pasid, "the second bond has PASID %u, the first had %u", pasid2, pasid);
    e = sva_op(fd, TD_OP_FILL, NULL, dst, SVA_LEN, 0x55667788u, &r);
    CHECK(e == TD_ERR_NONE && fill_ok(dst, SVA_LEN, 0x55667788u), "fill after a new bind: %d", e);
    CHECK(ioctl(fd, VIOMMU_SVA_UNBIND) == 0, "%s", ioctl_err("VIOMMU_SVA_UNBIND", errno));
    munlock(heap, heap_len);
    free(heap);
    munmap(src, 4 * pg);
    return T_PASS;
}

static int test_sva(void)
{
    char why[256] = "", path[PATH_MAX];
    int fd = -1, code;

    if (!dev_bdf[0] && find_testdev(dev_bdf, sizeof(dev_bdf))) {
        return FAIL("no PCI device %04x:%04x (viommu-testdev)", VIOMMU_TESTDEV_VENDOR_ID,
                    VIOMMU_TESTDEV_DEVICE_ID);
    }
    snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s", VIOMMU_SVA_DRVNAME);
    if (access(path, F_OK)) {
        return FAIL("the guest kernel has no %s driver (CONFIG_VIOMMU_TESTDEV_SVA)",
                    VIOMMU_SVA_DRVNAME);
    }
    if (bind_pci_driver(dev_bdf, VIOMMU_SVA_DRVNAME, why, sizeof(why))) {
        return FAIL("%s", why);
    }
    for (int i = 0; i < 100 && fd < 0; i++) {
        fd = open("/dev/" VIOMMU_SVA_DEVNAME, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            usleep(20000);          /* devtmpfs creates the node asynchronously */
        }
    }
    if (fd < 0) {
        code = FAIL("open /dev/%s: %s", VIOMMU_SVA_DEVNAME, strerror(errno));
    } else {
        code = sva_run(fd);
        close(fd);
    }
    /* Give the device back: unbound, no override (the next subtest binds vfio-pci). */
    snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind", VIOMMU_SVA_DRVNAME);
    if (write_file(path, dev_bdf)) {
        diag("unbinding %s from %s failed", dev_bdf, VIOMMU_SVA_DRVNAME);
    }
    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", dev_bdf);
    write_file(path, "\n");
    return code;
}

/* ------------------------------------------------------------------------ */
/* Runner                                                                      */

/*
 * Whether a subtest makes the IOMMU fault on purpose (its kernel fault
 * messages are expected; the host fails fault messages anywhere else).
 * FAULTS_VTD: on x86 only, where Linux's VT-d driver tears a PASID entry down
 * before writing the new one on every attach (see replace_storm()).
 */
enum { FAULTS_NONE, FAULTS_EXPECTED, FAULTS_VTD };

/*
 * Which IOMMUs a subtest applies to (tests[].on; 0, the default: every one).
 * Not a skip: on another IOMMU the feature does not exist in Linux at all
 * (iopf: arm-smmu-v3 takes no PCI PRI), so the program neither runs the
 * subtest nor prints a result line for it there.  The IOMMU is the one in
 * front of the device (iommu_kind()).  scripts/guest-test.sh reads ".on =" from
 * this table too (each configuration's IOMMU follows its architecture: arm64
 * SMMUv3, x86_64 VT-d), so it expects exactly the lines printed here.
 */
enum { ON_SMMUV3 = 1 << 0, ON_VTD = 1 << 1 };

struct test {
    int num;
    const char *name;
    int (*fn)(void);
    int faults;
    const char *what;
    unsigned on;
};

/* A row names .on only for a subtest that does not apply to every IOMMU. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct test tests[] = {
    { 1, "ioas-dma", test_ioas_dma, FAULTS_EXPECTED,
      "IOAS paging: DMA copy/fill/compare/checksum, unmapped IOVA faults" },
    { 2, "nested", test_nested, FAULTS_EXPECTED,
      "nested HWPT: stage 1 built by the test over a NEST_PARENT stage 2" },
    { 3, "replace", test_replace, FAULTS_VTD, "attach-replace between HWPTs while DMA runs" },
    { 4, "pasid", test_pasid, FAULTS_EXPECTED, "PASID attach/detach/replace with PASID-tagged DMA" },
    { 5, "msix", test_msix, FAULTS_EXPECTED, "MSI-X completion interrupts through VFIO eventfds" },
    { 6, "dma-api", test_dma_api, FAULTS_NONE,
      "virtio-blk and virtio-net (iommu_platform) through the kernel's DMA API" },
    { 7, "fault-report", test_fault_report, FAULTS_EXPECTED,
      "the guest kernel logs the IOMMU fault of a bad DMA" },
    { 8, "nested-pasid", test_nested_pasid, FAULTS_NONE,
      "PASID with nesting: RID and PASID 1 through their own stage 1s" },
    { 9, "dirty", test_dirty, FAULTS_NONE,
      "dirty tracking: exactly the pages the device wrote are reported, reads are not" },
    { 10, "ats", test_ats, FAULTS_NONE,
      "ATS: the kernel enables it, translated DMA through the ATC, unmap invalidates it" },
    { 11, "sva", test_sva, FAULTS_EXPECTED,
      "SVA: our kernel driver binds this process's mm; device DMA on its virtual addresses" },
    { 12, "iopf", test_iopf, FAULTS_EXPECTED, .on = ON_VTD,
      .what = "I/O page faults: PRI page requests through the iommufd fault queue, Success and "
              "Invalid responses, with and without PASID" },
};
#pragma GCC diagnostic pop

/* ON_* of the IOMMU in front of the device, from its sysfs "iommu" link; 0 if unknown. */
static unsigned iommu_kind(const char *bdf, char *name, size_t len)
{
    char path[PATH_MAX], link[PATH_MAX];
    const char *base;
    ssize_t n;

    snprintf(name, len, "none");
    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu", bdf);
    n = readlink(path, link, sizeof(link) - 1);
    if (n <= 0) {
        return 0;
    }
    link[n] = 0;
    base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
    snprintf(name, len, "%s", base);
    /* intel-iommu names its units dmarN, arm-smmu-v3 smmu3.<base address>. */
    if (!strncmp(base, "dmar", 4)) {
        return ON_VTD;
    }
    if (!strncmp(base, "smmu3.", 6)) {
        return ON_SMMUV3;
    }
    return 0;
}

static const char *on_names(unsigned on)
{
    return on == ON_VTD ? "VT-d" : on == ON_SMMUV3 ? "SMMUv3" : "every IOMMU";
}

static bool may_fault(const struct test *t)
{
    /* FAULTS_VTD: replace's breaking updates fault on SMMUv3 too (see replace_storm()). */
    return t->faults != FAULTS_NONE;
}
#define NTESTS (int)(sizeof(tests) / sizeof(tests[0]))

static void out_line(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 2) {
        n = sizeof(buf) - 2;
    }
    /* Keep the reason on one line. */
    for (int i = 0; i < n; i++) {
        if (buf[i] == '\n' || buf[i] == '\r') {
            buf[i] = ' ';
        }
    }
    buf[n++] = '\n';
    if (write(STDOUT_FILENO, buf, n) < 0) {
        /* ignore */
    }
}

/*
 * A line in the kernel log, so the host can attribute kernel messages to
 * subtests: "viommu-guest-test: begin N name faults=expected|none" and
 * "viommu-guest-test: end N name".
 */
static void kmsg_mark(const char *what, const struct test *t)
{
    char buf[160];
    int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC), n;

    if (fd < 0) {
        diag("open /dev/kmsg: %s", strerror(errno));
        return;
    }
    n = snprintf(buf, sizeof(buf), "viommu-guest-test: %s %d %s%s\n", what, t->num, t->name,
                 strcmp(what, "begin") ? "" : may_fault(t) ? " faults=expected" : " faults=none");
    if (write(fd, buf, n) != n) {
        diag("write /dev/kmsg: %s", strerror(errno));
    }
    close(fd);
}

static bool faults_before;         /* an earlier subtest of this run may have faulted */

static int run_one(const struct test *t, int timeout_s, int *pass, int *fail, int *skip)
{
    int pfd[2], status = 0, code;
    char reason[600] = "";
    pid_t pid;
    ssize_t n;
    uint64_t t0 = now_ns();

    if (pipe(pfd)) {
        out_line("VIOMMU-TEST: not ok %d %s # pipe: %s", t->num, t->name, strerror(errno));
        (*fail)++;
        return 0;
    }
    fflush(stdout);
    if (!may_fault(t) && faults_before) {
        /*
         * The drivers rate-limit fault messages (10 per 5 s window,
         * DEFAULT_RATELIMIT_*): start this subtest in a fresh window, so a
         * fault it should not cause is logged, not suppressed.
         */
        usleep(5500000);
    }
    faults_before |= may_fault(t);
    kmsg_mark("begin", t);
    pid = fork();
    if (pid == 0) {
        int code;

        close(pfd[0]);
        result_fd = pfd[1];
        alarm(timeout_s);
        code = t->fn();
        if (write(result_fd, result_reason, strlen(result_reason)) < 0) {
            /* the parent reports a missing reason */
        }
        _exit(code);
    }
    close(pfd[1]);
    if (pid < 0) {
        close(pfd[0]);
        out_line("VIOMMU-TEST: not ok %d %s # fork: %s", t->num, t->name, strerror(errno));
        (*fail)++;
        return 0;
    }
    n = 0;
    for (;;) {
        ssize_t k = read(pfd[0], reason + n, sizeof(reason) - 1 - n);
        if (k <= 0) {
            break;
        }
        n += k;
    }
    reason[n > 0 ? n : 0] = 0;
    close(pfd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    /* Let fault interrupts of the subtest's last DMAs log before the next one starts. */
    usleep(100000);
    kmsg_mark("end", t);
    diag("%s took %.1f s", t->name, (now_ns() - t0) / 1e9);
    code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        out_line("VIOMMU-TEST: not ok %d %s # %s (signal %d)", t->num, t->name,
                 sig == SIGALRM ? "timed out" : strsignal(sig), sig);
        (*fail)++;
    } else if (ours && (code == T_SKIP || code == T_PARTIAL || (code == T_PASS && reason[0]))) {
        /* Our vIOMMUs implement everything the suite tests: nothing may be left out. */
        out_line("VIOMMU-TEST: not ok %d %s # %s on a qemu-viommu vIOMMU: %s", t->num, t->name,
                 code == T_SKIP ? "unsupported" : "not all parts ran",
                 reason[0] ? reason : "no reason given");
        (*fail)++;
    } else if (code == T_PASS || code == T_PARTIAL) {
        if (reason[0]) {
            out_line("VIOMMU-TEST: ok %d %s # %s", t->num, t->name, reason);
        } else {
            out_line("VIOMMU-TEST: ok %d %s", t->num, t->name);
        }
        (*pass)++;
    } else if (code == T_SKIP) {
        out_line("VIOMMU-TEST: ok %d %s # SKIP %s", t->num, t->name, reason[0] ? reason : "unsupported");
        (*skip)++;
    } else {
        out_line("VIOMMU-TEST: not ok %d %s # %s", t->num, t->name,
                 reason[0] ? reason : "failed without a reason");
        (*fail)++;
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: viommu-guest-test [-v] [-d BDF] [-t SECONDS] [-c ours|reference] [TEST...]\n"
               "       viommu-guest-test -l\n"
               "TEST is a number or a name; default: all.  -c reference lets subtests skip\n"
               "(or pass with a note) where the vIOMMU lacks a feature; -c ours (default)\n"
               "makes that a failure.\n");
}

int main(int argc, char **argv)
{
    int pass = 0, fail = 0, skip = 0, timeout_s = 60, opt;
    bool selected[NTESTS] = { false }, any = false;
    char kind_name[64];
    unsigned kind;

    setvbuf(stdout, NULL, _IONBF, 0);
    while ((opt = getopt(argc, argv, "vld:t:c:h")) != -1) {
        switch (opt) {
        case 'c':
            if (strcmp(optarg, "ours") && strcmp(optarg, "reference")) {
                usage(stderr);
                return 2;
            }
            ours = !strcmp(optarg, "ours");
            break;
        case 'v':
            verbose = true;
            break;
        case 'l':
            for (int i = 0; i < NTESTS; i++) {
                printf("%d %s: %s%s%s%s\n", tests[i].num, tests[i].name, tests[i].what,
                       tests[i].on ? " (" : "", tests[i].on ? on_names(tests[i].on) : "",
                       tests[i].on ? " only)" : "");
            }
            return 0;
        case 'd':
            snprintf(dev_bdf, sizeof(dev_bdf), "%s", optarg);
            break;
        case 't':
            timeout_s = atoi(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    for (int a = optind; a < argc; a++) {
        bool found = false;
        for (int i = 0; i < NTESTS; i++) {
            if (!strcmp(argv[a], tests[i].name) || atoi(argv[a]) == tests[i].num) {
                selected[i] = found = any = true;
            }
        }
        if (!found) {
            fprintf(stderr, "unknown test '%s' (-l lists them)\n", argv[a]);
            return 2;
        }
    }
    diag("column: %s", ours ? "ours (a skip or a partial pass fails)" : "reference (subtests may skip)");
    if (!dev_bdf[0] && find_testdev(dev_bdf, sizeof(dev_bdf)) == 0) {
        diag("viommu-testdev at %s", dev_bdf);
    }
    kind = iommu_kind(dev_bdf, kind_name, sizeof(kind_name));
    diag("IOMMU in front of the device: %s (%s)", kind_name, kind ? on_names(kind) : "unknown: "
         "every subtest runs");
    for (int i = 0; i < NTESTS; i++) {
        if (any && !selected[i]) {
            continue;
        }
        if (tests[i].on && kind && !(tests[i].on & kind)) {
            diag("%d %s: not run, %s only", tests[i].num, tests[i].name, on_names(tests[i].on));
            continue;
        }
        run_one(&tests[i], timeout_s, &pass, &fail, &skip);
    }
    out_line("VIOMMU-TEST: done %d passed %d failed %d skipped", pass, fail, skip);
    return fail ? 1 : 0;
}
