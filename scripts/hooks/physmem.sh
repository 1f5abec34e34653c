# Memory-core hook (sourced by scripts/graft.sh, which provides insert_after,
# insert_in_func, $Q and $TAG): accesses through a MemoryRegionCache over an IOMMU region
# that cross a 4 KiB page of the IOMMU's input space are split, so that each
# part is translated (include/hw/viommu/cached-split.h says why: QEMU 10.0
# translates such an access once, and virtio's used-ring writes then land on
# the wrong physical page).  One line at the top of each of the two slow paths.

insert_after "$Q/system/physmem.c" '^#include "exec/memory.h"$' \
    "#include \"hw/viommu/cached-split.h\" /* $TAG */"
insert_in_func "$Q/system/physmem.c" '^address_space_read_cached_slow\(' '^    MemoryRegion \*mr;$' \
    "    MemTxResult split_res; if (viommu_cached_split(cache, addr, buf, len, false, &split_res)) { return split_res; } /* $TAG */"
insert_in_func "$Q/system/physmem.c" '^address_space_write_cached_slow\(' '^    MemoryRegion \*mr;$' \
    "    MemTxResult split_res; if (viommu_cached_split(cache, addr, (void *)buf, len, true, &split_res)) { return split_res; } /* $TAG */"
