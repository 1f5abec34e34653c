/*
 * viommu-vtd on q35: the machine side.  pc_machine_device_pre_plug_cb()
 * (hw/i386/pc.c, hook line) calls it for every IOMMU device before realize;
 * for a viommu-vtd it hands the device its placement and, once the machine
 * is done, routes the IOAPIC through it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIOMMU_VTD_Q35_H
#define HW_VIOMMU_VTD_Q35_H

#include "hw/boards.h"

void viommu_vtd_q35_pre_plug(MachineState *ms, DeviceState *dev, Error **errp);

#endif
