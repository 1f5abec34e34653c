/*
 * A qtest "driver" for viommu-testdev and the machines it sits in: what a
 * guest driver would do (find the device, enable it, map its BAR, program and
 * run the DMA engine, set up MSI-X), written once for every qemu-viommu qtest.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VIOMMU_TESTDEV_DRV_H
#define VIOMMU_TESTDEV_DRV_H

#include "libqtest.h"
#include "libqos/libqos-malloc.h"
#include "libqos/pci.h"
#include "libqos/generic-pcihost.h"
#include "standard-headers/linux/pci_regs.h"
#include "hw/viommu/testdev-regs.h"

/* Where qtests put the test device: slot 4 of the root bus. */
#define TD_DEVFN        0x20

typedef struct TdMachine {
    QTestState *qts;
    QGuestAllocator alloc;
    QPCIBus *bus;
    QGenericPCIBus gbus;        /* aarch64 virt only */
    uint64_t ecam;              /* extended config space window */
    bool is_arm;
} TdMachine;

typedef struct Td {
    TdMachine *m;
    QPCIDevice *dev;
    QPCIBar bar;
} Td;

/* Boot q35 (x86_64) or virt (aarch64); extra is appended to the command line. */
TdMachine *td_machine_start(const char *machine_opts, const char *extra);
void td_machine_stop(TdMachine *m);
uint64_t td_alloc(TdMachine *m, size_t size);  /* page-aligned guest RAM */

/* Find the device at devfn, enable memory + bus mastering, map its registers. */
Td *td_open(TdMachine *m, int devfn);
void td_close(Td *td);

uint32_t td_readl(Td *td, uint32_t reg);
void td_writel(Td *td, uint32_t reg, uint32_t val);
uint64_t td_readq(Td *td, uint32_t reg_lo);
void td_writeq(Td *td, uint32_t reg_lo, uint64_t val);

/* Program one operation; td_start() sets GO, td_wait() polls until not BUSY. */
void td_program(Td *td, uint32_t op, uint64_t src, uint64_t dst, uint32_t len);
void td_start(Td *td);
uint32_t td_wait(Td *td);                       /* returns TD_ERROR */
uint32_t td_do(Td *td, uint32_t op, uint64_t src, uint64_t dst, uint32_t len);

/* Extended (PCIe) config space of the device, through ECAM. */
uint32_t td_cfg_readl(Td *td, uint16_t off);
uint16_t td_cfg_readw(Td *td, uint16_t off);
void td_cfg_writew(Td *td, uint16_t off, uint16_t val);
void td_cfg_writel(Td *td, uint16_t off, uint32_t val);

/* PRI: grant alloc outstanding page requests and set Enable (alloc 0: disable). */
void td_pri_enable(Td *td, uint32_t alloc);

/* Step time until the device waits for a PRG Response; false if it completed instead. */
bool td_wait_pri(Td *td);

/* Step time until an access of the device is held by the IOMMU; false if it completed instead. */
bool td_wait_stall(Td *td);

/* MSI-X: enable, and aim vector v at addr with data. */
void td_msix_setup(Td *td, unsigned v, uint64_t addr, uint32_t data);

/* Poll query-migrate on qts until the migration completed (fails on "failed"). */
void td_wait_migration(QTestState *qts);

/* The FNV-1a 64 checksum the device computes for TD_OP_CHECKSUM. */
uint64_t td_fnv1a64(const uint8_t *buf, size_t len);

/* A page of guest RAM holding 16 words derived from tag, and the FNV-1a of its first 64 bytes. */
uint64_t td_page_tagged(TdMachine *m, uint32_t tag);
uint64_t td_page_tagged_sum(uint32_t tag);
/* Checksum 64 bytes at iova through the IOMMU: TD_ERR_*, the sum in *sum. */
uint32_t td_dma_sum(Td *td, uint64_t iova, uint64_t *sum);
/* iova reads as the page tagged tag (untagged DMA, or with TD_PASID = pasid_reg). */
void td_assert_reads(Td *td, uint64_t iova, uint32_t tag);
void td_assert_pasid_reads(Td *td, uint32_t pasid_reg, uint64_t iova, uint32_t tag);

#endif
