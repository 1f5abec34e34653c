/*
 * The IORT (IO Remapping Table, Arm DEN 0049E.e) of a "virt" machine with
 * viommu-smmuv3, built in place of virt's own (its build_iort() calls this
 * first, scripts/hooks/virt-acpi.sh).  Nodes, in this order:
 *
 *   ITS group      the one GICv3 ITS (MADT translation ID 0);
 *   SMMUv3 x N     one per instance (smmuv3-virt.c): base, COHACC (and HTTU)
 *                  overrides, wired interrupts as GSIVs (= SPI + 32), and
 *                  ID mappings: StreamIDs 0..0xffff -> the ITS unchanged (a
 *                  device's MSI DeviceID is its RID, as QEMU's ITS sees it),
 *                  and with msi=on a single mapping msi-devid -> ITS for the
 *                  SMMU's own MSIs, named by the DeviceID mapping index and
 *                  marked valid (E.e's flag: MSIs described next to GSIVs);
 *   Root complex   PCI segment 0, fully coherent, one ID mapping per host
 *                  bridge's RID range (main root bus, each pxb-pcie): to the
 *                  SMMUv3 node of the instance translating it, or straight to
 *                  the ITS when none does.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "hw/acpi/aml-build.h"
#include "hw/arm/virt.h"
#include "hw/viommu/smmuv3-virt.h"
#include "hw/viommu/smmuv3-iort.h"
#include "trace.h"

/* DEN 0049E.e: table revision 6; node types and the revisions of that issue. */
#define IORT_TABLE_REV          6
#define IORT_NODE_ITS_GROUP     0
#define IORT_NODE_RC            2
#define IORT_NODE_SMMUV3        4
#define IORT_ITS_GROUP_REV      1
#define IORT_SMMUV3_REV         5
#define IORT_RC_REV             4

#define IORT_HEADER_SIZE        48      /* ACPI header + node count, offset, reserved */
#define IORT_NODE_HDR_SIZE      16      /* type, length, revision, id, #maps, map offset */
#define IORT_ITS_GROUP_SIZE     (IORT_NODE_HDR_SIZE + 4 + 4)    /* one ITS */
#define IORT_SMMUV3_SIZE        68      /* up to the DeviceID mapping index */
#define IORT_RC_SIZE            36
#define IORT_ID_MAP_SIZE        20

/* ID mapping flags (Table 4) and SMMUv3 node flags (Table 9). */
#define IORT_ID_SINGLE          (1u << 0)
#define IORT_SMMUV3_COHACC      (1u << 0)
#define IORT_SMMUV3_HTTU_SHIFT  1       /* 0: none, 1: HA, 2: HA + HD */
#define IORT_SMMUV3_HTTU_HA_HD  2
#define IORT_SMMUV3_DEVID_VALID (1u << 4)   /* the DeviceID mapping index is valid */

/* Root complex memory access properties (Table 14/15): CCA = 1, CPM | DACS. */
#define IORT_CCA_COHERENT       1
#define IORT_MAF_CPM_DACS       0x3

#define GIC_SPI_GSIV_BASE       32

static void iort_node_header(GArray *t, uint8_t type, uint16_t len, uint8_t rev,
                             uint32_t id, uint32_t nmaps, uint32_t map_off)
{
    build_append_int_noprefix(t, type, 1);
    build_append_int_noprefix(t, len, 2);
    build_append_int_noprefix(t, rev, 1);
    build_append_int_noprefix(t, id, 4);
    build_append_int_noprefix(t, nmaps, 4);
    build_append_int_noprefix(t, nmaps ? map_off : 0, 4);
}

/* Table 4: @count IDs from @in_base map to @out_base.. at node @out_ref. */
static void iort_id_map(GArray *t, uint32_t in_base, uint32_t count, uint32_t out_base,
                        uint32_t out_ref, uint32_t flags)
{
    build_append_int_noprefix(t, in_base, 4);
    build_append_int_noprefix(t, count - 1, 4);     /* "number of IDs" is count - 1 */
    build_append_int_noprefix(t, out_base, 4);
    build_append_int_noprefix(t, out_ref, 4);
    build_append_int_noprefix(t, flags, 4);
}

static uint32_t iort_smmu_nmaps(const VismmuVirtInstance *in)
{
    return in->s->msi ? 2 : 1;
}

static void iort_its_group(GArray *t, uint32_t id)
{
    iort_node_header(t, IORT_NODE_ITS_GROUP, IORT_ITS_GROUP_SIZE, IORT_ITS_GROUP_REV, id, 0, 0);
    build_append_int_noprefix(t, 1, 4);             /* number of ITSs */
    build_append_int_noprefix(t, 0, 4);             /* GIC ITS ID (MADT) */
}

static void iort_smmuv3(GArray *t, const VismmuVirtInstance *in, uint32_t id, uint32_t its_off)
{
    uint32_t nmaps = iort_smmu_nmaps(in);
    uint32_t flags = IORT_SMMUV3_COHACC;
    uint32_t gsiv = in->spi + GIC_SPI_GSIV_BASE;

    if (in->s->httu) {
        flags |= IORT_SMMUV3_HTTU_HA_HD << IORT_SMMUV3_HTTU_SHIFT;
    }
    if (in->s->msi) {
        flags |= IORT_SMMUV3_DEVID_VALID;
    }
    iort_node_header(t, IORT_NODE_SMMUV3, IORT_SMMUV3_SIZE + nmaps * IORT_ID_MAP_SIZE,
                     IORT_SMMUV3_REV, id, nmaps, IORT_SMMUV3_SIZE);
    build_append_int_noprefix(t, in->base, 8);
    build_append_int_noprefix(t, flags, 4);
    build_append_int_noprefix(t, 0, 4);             /* reserved */
    build_append_int_noprefix(t, 0, 8);             /* VATOS: none */
    build_append_int_noprefix(t, 0, 4);             /* model: generic SMMUv3 */
    /* GSIVs in Table 9's order: Event, PRI, GERR, Sync (our lines 0, 1, 3, 2). */
    build_append_int_noprefix(t, gsiv + VIOMMU_SMMUV3_IRQ_EVTQ, 4);
    build_append_int_noprefix(t, gsiv + VIOMMU_SMMUV3_IRQ_PRIQ, 4);
    build_append_int_noprefix(t, gsiv + VIOMMU_SMMUV3_IRQ_GERROR, 4);
    build_append_int_noprefix(t, gsiv + VIOMMU_SMMUV3_IRQ_CMD_SYNC, 4);
    build_append_int_noprefix(t, 0, 4);             /* proximity domain */
    /* DeviceID mapping index: the single mapping below (valid with msi=on). */
    build_append_int_noprefix(t, nmaps - 1, 4);
    /* StreamID = RID -> DeviceID unchanged. */
    iort_id_map(t, 0, 0x10000, 0, its_off, 0);
    if (in->s->msi) {
        iort_id_map(t, 0, 1, in->s->msi_devid, its_off, IORT_ID_SINGLE);
    }
}

static void iort_root_complex(GArray *t, uint32_t id, const VismmuVirtRange *r, unsigned nr,
                              const uint32_t *smmu_off, uint32_t its_off)
{
    uint8_t pasid_bits = 0;
    uint32_t ats = 0;

    /*
     * PASID capabilities: the widest SubstreamID an SMMU behind it takes.
     * ATS attribute bit 0: the root complex supports ATS, when an SMMU behind
     * it has IDR0.ATS (as the DT's ats-supported, smmuv3-virt.c).
     */
    for (unsigned i = 0; i < VISMMU_VIRT_MAX_INSTANCES; i++) {
        const VismmuVirtInstance *in = vismmu_virt_instance(i);

        if (in && in->s->ssidsize > pasid_bits) {
            pasid_bits = in->s->ssidsize;
        }
        if (in && in->s->caps.ats) {
            ats = 1;
        }
    }
    iort_node_header(t, IORT_NODE_RC, IORT_RC_SIZE + nr * IORT_ID_MAP_SIZE, IORT_RC_REV, id,
                     nr, IORT_RC_SIZE);
    build_append_int_noprefix(t, IORT_CCA_COHERENT, 4);
    build_append_int_noprefix(t, 0, 1);             /* allocation hints */
    build_append_int_noprefix(t, 0, 2);             /* reserved */
    build_append_int_noprefix(t, IORT_MAF_CPM_DACS, 1);
    build_append_int_noprefix(t, ats, 4);           /* ATS attribute */
    build_append_int_noprefix(t, 0, 4);             /* PCI segment (MCFG) */
    build_append_int_noprefix(t, 64, 1);            /* memory address size limit */
    build_append_int_noprefix(t, pasid_bits, 2);    /* PASID capabilities: max width */
    build_append_int_noprefix(t, 0, 1);             /* reserved */
    for (unsigned i = 0; i < nr; i++) {
        uint32_t rid = r[i].first_bus << 8;
        uint32_t count = (r[i].last_bus - r[i].first_bus + 1) << 8;

        iort_id_map(t, rid, count, rid, r[i].slot >= 0 ? smmu_off[r[i].slot] : its_off, 0);
    }
}

bool viommu_smmuv3_virt_build_iort(GArray *table_data, BIOSLinker *linker,
                                   struct VirtMachineState *vms)
{
    AcpiTable table = { .sig = "IORT", .rev = IORT_TABLE_REV, .oem_id = vms->oem_id,
                        .oem_table_id = vms->oem_table_id };
    VismmuVirtRange r[256];
    uint32_t smmu_off[VISMMU_VIRT_MAX_INSTANCES] = { 0 };
    uint32_t its_off = IORT_HEADER_SIZE, off, id = 0;
    unsigned n = vismmu_virt_count(), nr;

    if (!n) {
        return false;
    }
    nr = vismmu_virt_ranges(r, ARRAY_SIZE(r));
    /* Node offsets first: the root complex and the SMMUs name each other's. */
    off = its_off + IORT_ITS_GROUP_SIZE;
    for (unsigned i = 0; i < VISMMU_VIRT_MAX_INSTANCES; i++) {
        const VismmuVirtInstance *in = vismmu_virt_instance(i);

        if (in) {
            smmu_off[i] = off;
            off += IORT_SMMUV3_SIZE + iort_smmu_nmaps(in) * IORT_ID_MAP_SIZE;
        }
    }

    acpi_table_begin(&table, table_data);
    build_append_int_noprefix(table_data, 1 + n + 1, 4);     /* ITS group, SMMUs, RC */
    build_append_int_noprefix(table_data, IORT_HEADER_SIZE, 4);
    build_append_int_noprefix(table_data, 0, 4);             /* reserved */
    iort_its_group(table_data, id++);
    for (unsigned i = 0; i < VISMMU_VIRT_MAX_INSTANCES; i++) {
        const VismmuVirtInstance *in = vismmu_virt_instance(i);

        if (in) {
            g_assert(table_data->len - table.table_offset == smmu_off[i]);
            iort_smmuv3(table_data, in, id++, its_off);
        }
    }
    iort_root_complex(table_data, id++, r, nr, smmu_off, its_off);
    acpi_table_end(linker, &table);
    trace_viommu_smmuv3_iort(n, nr);
    return true;
}
