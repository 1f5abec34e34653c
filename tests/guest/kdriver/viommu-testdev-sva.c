// SPDX-License-Identifier: GPL-2.0
/*
 * viommu-testdev-sva: a guest kernel driver for qemu-viommu's PCIe DMA test
 * device (1234:5669, docs/testdev.rst) that shares a process's address space
 * with the device (SVA).  Built into the guest kernel of the guest suite by
 * scripts/guest-kernel.sh; used by subtest "sva" of viommu-guest-test.
 *
 * The driver has no ID table: it binds only to a device whose driver_override
 * names it, so the suite's other subtests (which bind the device to vfio-pci)
 * never meet it.  While bound it registers /dev/viommu-sva; the ioctls are in
 * viommu-testdev-sva.h.  A DMA operation is programmed as the guest program
 * does through VFIO (SRC, DST, LEN, OP, PATTERN, then GO, then STATUS polled
 * until BUSY clears), with the PASID register holding the bond's PASID, so the
 * IOMMU translates the user virtual addresses through the process's own page
 * tables.
 */
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "testdev-regs.h"
#include "viommu-testdev-sva.h"

#define VTSVA_DEFAULT_TIMEOUT_MS    5000

struct vtsva_dev {
	struct kref ref;
	struct pci_dev *pdev;
	void __iomem *regs;
	struct miscdevice misc;
	struct mutex lock;          /* the registers, the files, the bonds */
	struct list_head files;
	bool removed;
};

struct vtsva_file {
	struct vtsva_dev *vd;
	struct list_head node;
	struct iommu_sva *handle;   /* the bond, or NULL */
	struct mm_struct *mm;       /* its address space (mmgrab'ed) */
	u32 pasid;
};

static void vtsva_dev_free(struct kref *ref)
{
	kfree(container_of(ref, struct vtsva_dev, ref));
}

static u32 td_rd(struct vtsva_dev *vd, u32 off)
{
	return readl(vd->regs + off);
}

static void td_wr(struct vtsva_dev *vd, u32 off, u32 v)
{
	writel(v, vd->regs + off);
}

/* Under vd->lock. */
static void vtsva_unbind_locked(struct vtsva_file *f)
{
	if (!f->handle)
		return;
	/* No operation is in flight: each one completes (or is reset) under the lock. */
	iommu_sva_unbind_device(f->handle);
	mmdrop(f->mm);
	f->handle = NULL;
	f->mm = NULL;
	f->pasid = 0;
}

static int vtsva_bind(struct vtsva_file *f, u32 __user *arg)
{
	struct vtsva_dev *vd = f->vd;
	struct iommu_sva *h;
	int ret = 0;

	if (!current->mm)
		return -EINVAL;
	mutex_lock(&vd->lock);
	if (vd->removed) {
		ret = -ENODEV;
		goto out;
	}
	if (f->handle) {
		ret = -EBUSY;
		goto out;
	}
	h = iommu_sva_bind_device(&vd->pdev->dev, current->mm);
	if (IS_ERR(h)) {
		ret = PTR_ERR(h);
		dev_info(&vd->pdev->dev, "iommu_sva_bind_device: %d\n", ret);
		goto out;
	}
	f->handle = h;
	f->pasid = iommu_sva_get_pasid(h);
	f->mm = current->mm;
	mmgrab(f->mm);
	if (put_user(f->pasid, arg)) {
		vtsva_unbind_locked(f);
		ret = -EFAULT;
	}
out:
	mutex_unlock(&vd->lock);
	return ret;
}

static int vtsva_unbind(struct vtsva_file *f)
{
	int ret = 0;

	mutex_lock(&f->vd->lock);
	if (f->handle)
		vtsva_unbind_locked(f);
	else
		ret = -ENOENT;
	mutex_unlock(&f->vd->lock);
	return ret;
}

/* The addresses an operation touches must be user addresses of the caller. */
static bool vtsva_range_ok(u32 op, u64 src, u64 dst, u32 len)
{
	bool uses_src, uses_dst;

	switch (op & ~(TD_OP_PRI | TD_OP_ATS)) {
	case TD_OP_COPY:
	case TD_OP_COMPARE:
		uses_src = uses_dst = true;
		break;
	case TD_OP_FILL:
		uses_src = false;
		uses_dst = true;
		break;
	case TD_OP_CHECKSUM:
	case TD_OP_TRANSLATE:
	case TD_OP_TRANSLATE_RO:
		uses_src = true;
		uses_dst = false;
		break;
	default:
		return true;    /* the device refuses it (TD_ERR_BAD_OP) before any DMA */
	}
	return (!uses_src || access_ok(u64_to_user_ptr(src), len)) &&
	       (!uses_dst || access_ok(u64_to_user_ptr(dst), len));
}

static int vtsva_dma(struct vtsva_file *f, struct viommu_sva_dma __user *uarg)
{
	struct vtsva_dev *vd = f->vd;
	struct viommu_sva_dma a;
	ktime_t deadline;
	u32 st;
	int ret = 0;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (!vtsva_range_ok(a.op, a.src, a.dst, a.len))
		return -EFAULT;
	deadline = ktime_add_ms(ktime_get(), a.timeout_ms ? a.timeout_ms :
				VTSVA_DEFAULT_TIMEOUT_MS);

	mutex_lock(&vd->lock);
	if (vd->removed) {
		ret = -ENODEV;
		goto out;
	}
	/* The device would walk the bound address space, not the caller's. */
	if (!f->handle || f->mm != current->mm) {
		ret = f->handle ? -EPERM : -ENOENT;
		goto out;
	}
	td_wr(vd, TD_CMD, TD_CMD_RESET);
	td_wr(vd, TD_SRC_LO, lower_32_bits(a.src));
	td_wr(vd, TD_SRC_HI, upper_32_bits(a.src));
	td_wr(vd, TD_DST_LO, lower_32_bits(a.dst));
	td_wr(vd, TD_DST_HI, upper_32_bits(a.dst));
	td_wr(vd, TD_LEN, a.len);
	td_wr(vd, TD_OP, a.op);
	td_wr(vd, TD_PATTERN, a.pattern);
	td_wr(vd, TD_IRQ, 0);
	td_wr(vd, TD_DELAY_NS, 0);
	td_wr(vd, TD_PASID, TD_PASID_VALID | (f->pasid & TD_PASID_VALUE_MASK));
	td_wr(vd, TD_CMD, TD_CMD_GO);
	for (;;) {
		st = td_rd(vd, TD_STATUS);
		if (!(st & TD_STATUS_BUSY))
			break;
		if (ktime_after(ktime_get(), deadline)) {
			/* Drop it: nothing of it may land after we return. */
			td_wr(vd, TD_CMD, TD_CMD_RESET);
			ret = -ETIMEDOUT;
			goto out;
		}
		usleep_range(20, 200);
	}
	a.status = st;
	a.error = td_rd(vd, TD_ERROR);
	a.result = td_rd(vd, TD_RESULT_LO) | (u64)td_rd(vd, TD_RESULT_HI) << 32;
	a.fault_addr = td_rd(vd, TD_FAULT_ADDR_LO) | (u64)td_rd(vd, TD_FAULT_ADDR_HI) << 32;
	a.pri_requests = td_rd(vd, TD_PRI_REQUESTS);
	a.atc_hits = td_rd(vd, TD_ATC_HITS);
	a.atc_misses = td_rd(vd, TD_ATC_MISSES);
	a.ats_invals = td_rd(vd, TD_ATS_INVALS);
	a.stalls = td_rd(vd, TD_STALLS);
	a.pasid = f->pasid;
	if (copy_to_user(uarg, &a, sizeof(a)))
		ret = -EFAULT;
out:
	mutex_unlock(&vd->lock);
	return ret;
}

static long vtsva_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vtsva_file *f = file->private_data;

	switch (cmd) {
	case VIOMMU_SVA_BIND:
		return vtsva_bind(f, (u32 __user *)arg);
	case VIOMMU_SVA_UNBIND:
		return vtsva_unbind(f);
	case VIOMMU_SVA_DMA:
		return vtsva_dma(f, (struct viommu_sva_dma __user *)arg);
	default:
		return -ENOTTY;
	}
}

static int vtsva_open(struct inode *inode, struct file *file)
{
	struct vtsva_dev *vd = container_of(file->private_data, struct vtsva_dev, misc);
	struct vtsva_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_lock(&vd->lock);
	if (vd->removed) {
		mutex_unlock(&vd->lock);
		kfree(f);
		return -ENODEV;
	}
	kref_get(&vd->ref);
	f->vd = vd;
	list_add(&f->node, &vd->files);
	mutex_unlock(&vd->lock);
	file->private_data = f;
	return 0;
}

static int vtsva_release(struct inode *inode, struct file *file)
{
	struct vtsva_file *f = file->private_data;
	struct vtsva_dev *vd = f->vd;

	mutex_lock(&vd->lock);
	vtsva_unbind_locked(f);
	list_del(&f->node);
	mutex_unlock(&vd->lock);
	kfree(f);
	kref_put(&vd->ref, vtsva_dev_free);
	return 0;
}

static const struct file_operations vtsva_fops = {
	.owner = THIS_MODULE,
	.open = vtsva_open,
	.release = vtsva_release,
	.unlocked_ioctl = vtsva_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static int vtsva_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vtsva_dev *vd;
	int ret;

	if (pdev->vendor != VIOMMU_TESTDEV_VENDOR_ID || pdev->device != VIOMMU_TESTDEV_DEVICE_ID)
		return -ENODEV;
	vd = kzalloc(sizeof(*vd), GFP_KERNEL);
	if (!vd)
		return -ENOMEM;
	kref_init(&vd->ref);
	mutex_init(&vd->lock);
	INIT_LIST_HEAD(&vd->files);
	vd->pdev = pdev;

	ret = pci_enable_device_mem(pdev);
	if (ret)
		goto err_free;
	ret = pci_request_region(pdev, VIOMMU_TESTDEV_REG_BAR, VIOMMU_SVA_DRVNAME);
	if (ret)
		goto err_disable;
	vd->regs = pci_iomap(pdev, VIOMMU_TESTDEV_REG_BAR, VIOMMU_TESTDEV_REG_SIZE);
	if (!vd->regs) {
		ret = -ENOMEM;
		goto err_release;
	}
	if (td_rd(vd, TD_ID) != TD_ID_VALUE) {
		dev_err(&pdev->dev, "ID register reads 0x%08x, not a viommu-testdev\n",
			td_rd(vd, TD_ID));
		ret = -ENODEV;
		goto err_unmap;
	}
	pci_set_master(pdev);
	td_wr(vd, TD_CMD, TD_CMD_RESET);
	pci_set_drvdata(pdev, vd);

	vd->misc.minor = MISC_DYNAMIC_MINOR;
	vd->misc.name = VIOMMU_SVA_DEVNAME;
	vd->misc.fops = &vtsva_fops;
	vd->misc.parent = &pdev->dev;
	ret = misc_register(&vd->misc);
	if (ret)
		goto err_master;
	dev_info(&pdev->dev, "SVA test driver bound, /dev/%s\n", VIOMMU_SVA_DEVNAME);
	return 0;

err_master:
	pci_clear_master(pdev);
err_unmap:
	pci_iounmap(pdev, vd->regs);
err_release:
	pci_release_region(pdev, VIOMMU_TESTDEV_REG_BAR);
err_disable:
	pci_disable_device(pdev);
err_free:
	kfree(vd);
	return ret;
}

static void vtsva_remove(struct pci_dev *pdev)
{
	struct vtsva_dev *vd = pci_get_drvdata(pdev);
	struct vtsva_file *f;

	misc_deregister(&vd->misc);
	mutex_lock(&vd->lock);
	/* Open files outlive the device: their bonds end now, their ioctls fail. */
	list_for_each_entry(f, &vd->files, node)
		vtsva_unbind_locked(f);
	vd->removed = true;
	td_wr(vd, TD_CMD, TD_CMD_RESET);
	mutex_unlock(&vd->lock);
	pci_clear_master(pdev);
	pci_iounmap(pdev, vd->regs);
	pci_release_region(pdev, VIOMMU_TESTDEV_REG_BAR);
	pci_disable_device(pdev);
	kref_put(&vd->ref, vtsva_dev_free);
}

/* No ID table: only a driver_override naming this driver binds it. */
static struct pci_driver vtsva_driver = {
	.name = VIOMMU_SVA_DRVNAME,
	.probe = vtsva_probe,
	.remove = vtsva_remove,
};
module_pci_driver(vtsva_driver);

MODULE_DESCRIPTION("qemu-viommu test device: SVA driver for the guest suite");
MODULE_LICENSE("GPL");
