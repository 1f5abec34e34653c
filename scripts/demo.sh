#!/usr/bin/env bash
# make demo: a guest Linux 7.3 (iommufd, VFIO cdev) does nested-translation DMA
# through viommu-smmuv3 (arm64 guest on virt) and viommu-vtd (x86_64 guest on
# q35): it builds its own stage-1 tables, attaches the test device to a nested
# HWPT over a stage-2 parent, DMAs, changes a stage-1 mapping, invalidates, and
# DMAs again; then the same with PASIDs.  The guest narrates each step.
set -euo pipefail
. "$(dirname "$0")/common.sh"

"$VIOMMU_TOP/scripts/guest-test.sh" --viommu viommu-smmuv3 --viommu viommu-vtd \
    --tests nested,pasid --verbose --no-virtio |
awk '
    /^==> /                      { next }                   # cache notices
    /^# [a-z0-9_]+\/[a-z0-9-]+: guest ran/ { split($2, a, ":"); print ""; print "== " a[1] " (" $0 ")"; next }
    /^#   # [a-z0-9_]+\/[a-z0-9-]+: .*qemu-system/ { sub(/^#   # [^:]*: /, ""); print "   $ " $0; next }
    /^#   VIOMMU-TEST: /         { next }
    /^#   # /                    { sub(/^#   # /, "   "); print; next }
    /^# matrix/                  { next }
                                 { print }
'
