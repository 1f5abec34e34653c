/*
 * viommu-smmuv3: the stall fault model (IHI 0070 3.12.2).  A translation
 * fault, access flag fault, address size fault or permission fault of a
 * stream configured to stall (CD.S for stage 1, STE.S2S for stage 2) is
 * not terminated: the transaction is held, an event with Stall = 1 and a
 * STAG is recorded, and software ends the hold with CMD_RESUME (Retry:
 * translate it again; Abort / Terminate: end it with an abort) or
 * CMD_STALL_TERM.
 *
 * QEMU's memory API cannot suspend an access midway, so only requesters
 * that asked for it (viommu_stall_attach(), include/hw/viommu/pasid-dma.h)
 * are held: the device sees the access refused, learns with
 * viommu_stall_held() that it is held, and waits for its resume handler.
 * Everyone else's faults terminate as with STALL_MODEL = terminate only.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "hw/viommu/smmuv3-internal.h"
#include "trace.h"

/* The client slot of (bus, devfn), or -1 (s->mutex held). */
static int stall_client_locked(ViommuSmmuv3State *s, PCIBus *bus, int devfn)
{
    for (int i = 0; i < VIOMMU_SMMUV3_STALL_CLIENTS; i++) {
        if (s->stall_clients[i].bus == bus && s->stall_clients[i].devfn == devfn) {
            return i;
        }
    }
    return -1;
}

/* Forget held entry i (s->mutex held); the order of the rest does not matter. */
static ViommuSmmuv3Stall stall_remove_locked(ViommuSmmuv3State *s, unsigned i)
{
    ViommuSmmuv3Stall st = s->stalls[i];

    s->stalls[i] = s->stalls[--s->nstalls];
    return st;
}

bool vismmu_stall_attach(PCIBus *bus, void *opaque, int devfn, ViommuStallResumeFn *resume,
                         void *resume_opaque)
{
    ViommuSmmuv3State *s = opaque;
    int i;

    if (s->caps.stall_model == VI_SMMU_STALL_MODEL_TERM) {
        return false;
    }
    qemu_mutex_lock(&s->mutex);
    i = stall_client_locked(s, bus, devfn);
    if (i < 0) {
        i = stall_client_locked(s, NULL, 0);
    }
    if (i >= 0) {
        s->stall_clients[i] = (ViommuSmmuv3StallClient) {
            .bus = bus, .devfn = devfn, .resume = resume, .opaque = resume_opaque,
        };
    }
    qemu_mutex_unlock(&s->mutex);
    trace_viommu_smmuv3_stall_attach(devfn, i >= 0);
    return i >= 0;
}

void vismmu_stall_detach(PCIBus *bus, void *opaque, int devfn)
{
    ViommuSmmuv3State *s = opaque;
    int i;

    qemu_mutex_lock(&s->mutex);
    i = stall_client_locked(s, bus, devfn);
    if (i >= 0) {
        for (unsigned j = 0; j < s->nstalls; ) {
            if (s->stalls[j].client == i) {
                stall_remove_locked(s, j);  /* a later CMD_RESUME for it is ignored */
            } else {
                j++;
            }
        }
        s->stall_clients[i] = (ViommuSmmuv3StallClient) { 0 };
    }
    qemu_mutex_unlock(&s->mutex);
}

bool vismmu_stall_held(PCIBus *bus, void *opaque, int devfn)
{
    ViommuSmmuv3State *s = opaque;
    bool held = false;
    int i;

    qemu_mutex_lock(&s->mutex);
    i = stall_client_locked(s, bus, devfn);
    for (unsigned j = 0; i >= 0 && j < s->nstalls; j++) {
        if (s->stalls[j].client == i && !s->stalls[j].claimed) {
            s->stalls[j].claimed = true;
            held = true;
            break;
        }
    }
    qemu_mutex_unlock(&s->mutex);
    return held;
}

static bool stag_in_use_locked(ViommuSmmuv3State *s, uint16_t stag)
{
    for (unsigned j = 0; j < s->nstalls; j++) {
        if (s->stalls[j].stag == stag) {
            return true;
        }
    }
    return false;
}

int vismmu_stall_hold_locked(ViommuSmmuv3State *s, PCIBus *bus, int devfn, uint32_t sid)
{
    int c = bus ? stall_client_locked(s, bus, devfn) : -1;
    uint16_t stag;

    if (c < 0) {
        return -1;              /* a requester that cannot be held */
    }
    if (s->nstalls >= s->stall_max || s->npending >= VIOMMU_SMMUV3_PENDING_EVENTS) {
        trace_viommu_smmuv3_stall_full(sid, s->nstalls);
        return -1;              /* no room to hold it or to record it: terminated */
    }
    /* A STAG unique among the held transactions (at most stall_max < 2^16 of them). */
    for (stag = s->next_stag; stag_in_use_locked(s, stag); stag++) {
    }
    s->next_stag = stag + 1;
    s->stalls[s->nstalls++] = (ViommuSmmuv3Stall) { .sid = sid, .stag = stag, .client = c };
    trace_viommu_smmuv3_stall_hold(sid, stag);
    return stag;
}

/*
 * End the held transactions of sid (with tag stag, or all of them when
 * stag < 0): each one the device knows about gets its outcome.  BQL held.
 * Returns how many ended.
 */
static unsigned stall_end(ViommuSmmuv3State *s, bool any_sid, uint32_t sid, int stag,
                          bool retry)
{
    g_autofree ViommuSmmuv3StallClient *done = NULL;
    unsigned ndone = 0, ended = 0;

    qemu_mutex_lock(&s->mutex);
    done = g_new(ViommuSmmuv3StallClient, s->nstalls + 1);
    for (unsigned j = 0; j < s->nstalls; ) {
        ViommuSmmuv3Stall *st = &s->stalls[j];

        if ((!any_sid && st->sid != sid) || (stag >= 0 && st->stag != stag)) {
            j++;
            continue;
        }
        trace_viommu_smmuv3_stall_end(st->sid, st->stag, retry);
        /* One the device has not learnt about yet: it will see it terminated. */
        if (st->claimed) {
            done[ndone++] = s->stall_clients[st->client];
        }
        stall_remove_locked(s, j);
        ended++;
    }
    qemu_mutex_unlock(&s->mutex);
    /* The handlers run outside s->mutex: they may schedule work. */
    for (unsigned i = 0; i < ndone; i++) {
        done[i].resume(done[i].opaque, retry);
    }
    return ended;
}

void vismmu_stall_records_lost(ViommuSmmuv3State *s, uint64_t (*ev)[4], unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (ev[i][1] & VI_SMMU_EVT1_STALL) {
            /* 3.12.2: a stall that cannot be recorded is terminated. */
            stall_end(s, false, VI_SMMU_EVT0_SID(ev[i][0]), ev[i][1] & VI_SMMU_EVT1_STAG_MASK,
                      false);
        }
    }
}

void vismmu_stall_terminate_all(ViommuSmmuv3State *s)
{
    stall_end(s, true, 0, -1, false);
}

int vismmu_cmd_resume(ViommuSmmuv3State *s, const uint64_t *cmd)
{
    uint32_t sid = FIELD_EX64(cmd[0], VISMMU_CMD0, SID);
    unsigned action = FIELD_EX64(cmd[0], VISMMU_CMD0, ACTION);
    uint16_t stag = FIELD_EX64(cmd[1], VISMMU_CMD1, STAG);

    if (s->caps.stall_model == VI_SMMU_STALL_MODEL_TERM || action > VISMMU_RESUME_ABORT) {
        return VISMMU_CERROR_ILL;   /* 4.6.1: no stalls, or a reserved Action */
    }
    /* One that matches no held transaction is ignored (4.6.1). */
    if (!stall_end(s, false, sid, stag, action == VISMMU_RESUME_RETRY)) {
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: CMD_RESUME for StreamID 0x%x STAG "
                      "0x%x matches no stalled transaction\n", sid, stag);
        trace_viommu_smmuv3_stall_unmatched(sid, stag);
    }
    return VISMMU_CERROR_NONE;
}

int vismmu_cmd_stall_term(ViommuSmmuv3State *s, const uint64_t *cmd)
{
    if (s->caps.stall_model == VI_SMMU_STALL_MODEL_TERM) {
        return VISMMU_CERROR_ILL;
    }
    stall_end(s, false, FIELD_EX64(cmd[0], VISMMU_CMD0, SID), -1, false);
    return VISMMU_CERROR_NONE;
}
