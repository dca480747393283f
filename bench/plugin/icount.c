/*
 * icount.c - a QEMU TCG plugin that counts executed guest instructions between marker addresses.
 *
 * Written for QEMU 7.2 (plugin API version 1). Debian ships no qemu-plugin.h, so the few declarations used here
 * are copied from the documented API (include/qemu/qemu-plugin.h of QEMU 7.2); they are resolved against
 * qemu-system-* at load time. The plugin needs no glib.
 *
 * Usage (one vCPU, system emulation):
 *   qemu-system-arm ... -plugin file=icount.so,out=counts.txt,mode=tb,mark=0x1a0,mark=0x1a4
 *
 *   mark=ADDR  address of a marker function's first instruction (Thumb: bit 0 cleared). Repeat, up to MAX_MARKS.
 *              Marker i (1-based, in argument order) starts region i; region 0 is everything before the first
 *              marker. Each time a marker's first instruction is about to execute, the instructions executed since
 *              the previous marker go to the previous region, and the marker instruction itself opens the new one.
 *              Regions are revisited freely: counts and visits accumulate.
 *   out=FILE   write the result there at exit (default: qemu_plugin_outs, which needs `-d plugin`).
 *   mode=tb    (default) one inline add of n per translation block: fastest; exact as long as every TB that
 *              starts runs to its end (true for non-faulting code without -icount, see below).
 *   mode=insn  one inline add of 1 per instruction: exact even when a TB is left early.
 *   mode=cb    one C callback per instruction: slowest; the reference the other two are checked against.
 *
 * Output, one line each:
 *   icount mode=<mode> markers=<k>
 *   region <i> <address or "start"> <instructions> <visits>
 *   total <instructions>
 *
 * Why a TB can be left early, and what that means for mode=tb: QEMU adds the TB's inline count when the block is
 * entered. A block left before its end (a synchronous fault in the middle, or, with -icount, an MMIO access that
 * is not the block's last instruction: QEMU then abandons the block and re-executes from that instruction) has
 * its remaining instructions counted twice. mode=insn counts each instruction just before it executes, and QEMU
 * does not re-instrument the re-executed I/O instruction (CF_MEMI_ONLY), so it stays exact.
 * Interrupts, semihosting BKPT, WFI and exception returns all end a TB, so they are fine in every mode.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The subset of QEMU 7.2's plugin API used here (qemu-plugin.h, QEMU_PLUGIN_VERSION 1) ---- */

#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;

/* Passed to qemu_plugin_install; only valid during that call. */
typedef struct qemu_info_t {
    const char *target_name;
    struct { int min; int cur; } version;
    bool system_emulation;
    union {
        struct { int smp_vcpus; int max_vcpus; } system;
    };
} qemu_info_t;

struct qemu_plugin_tb;   /* opaque: a block being translated (valid only inside the translation callback) */
struct qemu_plugin_insn; /* opaque: one instruction of that block */

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op, void *ptr,
                                                uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

/* QEMU refuses plugins that do not export the API version they were written against. */
QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

/* ---- State. One vCPU (checked at install), so plain variables and no locking. ---- */

#define MAX_MARKS 256

enum mode { MODE_TB, MODE_INSN, MODE_CB };
static const char *const mode_names[] = { "tb", "insn", "cb" };
static enum mode mode = MODE_TB;

static uint64_t mark_addr[MAX_MARKS + 1]; /* [1..n_marks]; index 0 is the implicit "start" region */
static unsigned n_marks;
static const char *out_path;              /* argv stays valid for the plugin's lifetime */

static uint64_t executed;                 /* instructions executed so far (bumped by inline ops and callbacks) */
static uint64_t region_count[MAX_MARKS + 1];
static uint64_t region_visits[MAX_MARKS + 1] = { 1 };
static unsigned current;                  /* region being accumulated */

/* ---- Instruction classes (cls=FILE; forces per-instruction callbacks): for a cycle estimate ----
 * Thumb/Thumb-2 encodings are classified at translation time; a taken branch is any change of flow (the next
 * executed instruction is not the sequential successor), counted on the region of the instruction after it.
 * Each instruction has at most one class (load ... longmul, valu, vmem, le); the other counters are events:
 *   ldm_regs  registers moved by LDM/STM/PUSH/POP;  ldm_dw  the same in 64-bit transfers, sum of ceil(regs / 2);
 *   valu      MVE (Helium) data processing on Q registers: the 0xEF/0xFF space, the 0xEE/0xFE space with
 *             coprocessor field 111x (VADDV, VMLADAV, VPT, VPST, scalar-operand forms...), VDUP;
 *   vmem      MVE loads and stores (VLDR/VSTR B/H/W/D, gather/scatter, VLD2x/VLD4x/VST2x/VST4x): the
 *             coprocessor load/store space with coprocessor field 111x (VFP's own loads use 101x: not counted);
 *   le        executed LE/LETP (low-overhead loop ends); le_taken: taken branches made by an LE/LETP;
 *   pair      dual-issue pairs: an instruction that directly follows (sequentially, no taken branch between)
 *             an unpaired predecessor, where neither is LDRD/LDM/STM/MVE, not both are single loads/stores and not
 *             both multiplies; greedy in execution order (an instruction is in at most one pair). Register
 *             dependencies are not looked at (the Cortex-M7 model of generator/src/bench/bench.ts);
 *   vovl      MVE instructions that directly follow an MVE instruction of the other kind (vmem after valu or
 *             valu after vmem): their first beat overlaps the previous one's last (the Cortex-M55 model). */
enum cls { C_LOAD, C_STORE, C_LDRD, C_LDM, C_LDM_REGS, C_MUL, C_LONGMUL, C_TAKEN, C_LDM_DW, C_VALU, C_VMEM, C_LE, C_LE_TAKEN, C_PAIR, C_VOVL, N_CLS };
static const char *const cls_names[N_CLS] = { "load", "store", "ldrd", "ldm", "ldm_regs", "mul", "longmul", "taken",
                                              "ldm_dw", "valu", "vmem", "le", "le_taken", "pair", "vovl" };
static const char *cls_path;
static uint64_t cls_now[N_CLS];
static uint64_t cls_since[N_CLS];
static uint64_t region_cls[MAX_MARKS + 1][N_CLS];
static uint64_t next_seq = UINT64_MAX;    /* address of the sequential successor of the last instruction */
struct insn_info { uint64_t addr; uint32_t size; int8_t cls; uint8_t regs; uint8_t dw; uint16_t mark; };
static const struct insn_info *prev_ii;   /* the instruction executed last (NULL after a marker) */
static bool prev_paired;                  /* it was the second of a dual-issue pair */

/* Issue kinds for the dual-issue pairing: 0 other (ALU, branch, FP), 1 single load/store, 2 multiply, 3 alone. */
static int issue_kind(int cls)
{
    switch (cls) {
    case C_LOAD: case C_STORE: return 1;
    case C_MUL: case C_LONGMUL: return 2;
    case C_LDRD: case C_LDM: case C_VALU: case C_VMEM: return 3;
    default: return 0;
    }
}

static unsigned popcount16(unsigned x)
{
    unsigned n = 0;
    for (; x; x &= x - 1u) n++;
    return n;
}

static void classify(struct insn_info *ii, const uint8_t *d, size_t size)
{
    const unsigned h1 = (unsigned)d[0] | ((unsigned)d[1] << 8);
    ii->cls = -1;
    ii->regs = 0;
    if (size == 2) {
        const unsigned top4 = h1 >> 12;
        if (top4 == 0x5) ii->cls = ((h1 >> 9) & 7u) >= 3u ? C_LOAD : C_STORE;
        else if (top4 == 0x6 || top4 == 0x7 || top4 == 0x8 || top4 == 0x9) ii->cls = (h1 & 0x800u) ? C_LOAD : C_STORE;
        else if ((h1 >> 11) == 0x09u) ii->cls = C_LOAD; /* LDR literal */
        else if (top4 == 0xC || (h1 & 0xF600u) == 0xB400u) { ii->cls = C_LDM; ii->regs = (uint8_t)popcount16(h1 & ((h1 & 0xF000u) == 0xB000u ? 0x1FFu : 0xFFu)); }
        else if ((h1 & 0xFFC0u) == 0x4340u) ii->cls = C_MUL;
    } else if (size == 4) {
        const unsigned h2 = (unsigned)d[2] | ((unsigned)d[3] << 8);
        if ((h1 & 0xFE40u) == 0xE800u) { ii->cls = C_LDM; ii->regs = (uint8_t)popcount16(h2); }
        else if ((h1 & 0xFE40u) == 0xE840u) ii->cls = C_LDRD;
        else if ((h1 & 0xFE00u) == 0xF800u) ii->cls = (h1 & 0x10u) ? C_LOAD : C_STORE;
        else if ((h1 & 0xFF80u) == 0xFB00u) ii->cls = C_MUL;
        else if ((h1 & 0xFF80u) == 0xFB80u) ii->cls = C_LONGMUL;
        else if ((h1 & 0xEE00u) == 0xEC00u && (h2 & 0x0E00u) == 0x0E00u) ii->cls = C_VMEM;
        else if ((h1 & 0xEF00u) == 0xEF00u) ii->cls = C_VALU;
        else if ((h1 & 0xEF00u) == 0xEE00u && (h2 & 0x0E00u) == 0x0E00u) ii->cls = C_VALU;
        else if ((h1 & 0xFF90u) == 0xEE80u && (h2 & 0x0F5Fu) == 0x0B10u) ii->cls = C_VALU; /* VDUP */
        else if ((h1 & 0xFFCFu) == 0xF00Fu && (h2 & 0xF001u) == 0xC001u) ii->cls = C_LE;
    }
    if (ii->cls == C_LDM) ii->dw = (uint8_t)((ii->regs + 1u) / 2u);
}
static uint64_t current_since;            /* value of `executed` when `current` was last entered */

/* ---- Execution-time callbacks ---- */

/* Runs just before a marker's first instruction executes. It counts that instruction itself (the marker TB gets
 * no inline ops), so nothing depends on the order in which QEMU runs inline ops and callbacks. */
static void on_marker(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    const unsigned m = (unsigned)(uintptr_t)userdata;
    region_count[current] += executed - current_since;
    current = m;
    current_since = executed;
    region_visits[m]++;
    executed++;
}

static void on_marker_cls(unsigned int vcpu_index, void *userdata)
{
    const struct insn_info *ii = userdata;
    const unsigned prev = current;
    on_marker(vcpu_index, (void *)(uintptr_t)ii->mark);
    for (unsigned k = 0; k < N_CLS; k++) {
        region_cls[prev][k] += cls_now[k] - cls_since[k];
        cls_since[k] = cls_now[k];
    }
    if (ii->addr != next_seq) {
        cls_now[C_TAKEN]++;
        if (prev_ii && prev_ii->cls == C_LE) cls_now[C_LE_TAKEN]++;
    }
    next_seq = ii->addr + ii->size;
    prev_ii = NULL; /* the marker's instruction pairs with nothing */
    prev_paired = false;
}

static void on_insn_cls(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    const struct insn_info *ii = userdata;
    executed++;
    const bool seq = ii->addr == next_seq;
    if (!seq) {
        cls_now[C_TAKEN]++;
        if (prev_ii && prev_ii->cls == C_LE) cls_now[C_LE_TAKEN]++;
    }
    next_seq = ii->addr + ii->size;
    if (ii->cls >= 0) cls_now[ii->cls]++;
    if (ii->cls == C_LDM) {
        cls_now[C_LDM_REGS] += ii->regs;
        cls_now[C_LDM_DW] += ii->dw;
    }
    bool paired = false;
    if (seq && prev_ii) {
        const int a = issue_kind(prev_ii->cls), b = issue_kind(ii->cls);
        if (!prev_paired && a != 3 && b != 3 && !(a == 1 && b == 1) && !(a == 2 && b == 2)) {
            cls_now[C_PAIR]++;
            paired = true;
        }
        const bool pv = prev_ii->cls == C_VALU || prev_ii->cls == C_VMEM, v = ii->cls == C_VALU || ii->cls == C_VMEM;
        if (pv && v && prev_ii->cls != ii->cls) cls_now[C_VOVL]++;
    }
    prev_ii = ii;
    prev_paired = paired;
}

static void on_insn(unsigned int vcpu_index, void *userdata)
{
    (void)vcpu_index;
    (void)userdata;
    executed++;
}

/* ---- Translation: decide how each new block is counted ---- */

static unsigned marker_at(uint64_t vaddr)
{
    for (unsigned m = 1; m <= n_marks; m++)
        if (mark_addr[m] == vaddr) return m;
    return 0;
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    const size_t n = qemu_plugin_tb_n_insns(tb);
    bool has_marker = false;
    for (size_t i = 0; i < n && !has_marker; i++)
        has_marker = marker_at(qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, i))) != 0;

    if (cls_path) {
        for (size_t i = 0; i < n; i++) {
            struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
            struct insn_info *ii = calloc(1, sizeof *ii); /* lives as long as the translation: never freed */
            if (!ii) abort();
            ii->addr = qemu_plugin_insn_vaddr(insn);
            ii->size = (uint32_t)qemu_plugin_insn_size(insn);
            const unsigned m = marker_at(ii->addr);
            if (m) {
                ii->mark = (uint16_t)m; /* marker number, for on_marker */
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker_cls, QEMU_PLUGIN_CB_NO_REGS, ii);
            } else {
                classify(ii, qemu_plugin_insn_data(insn), ii->size);
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn_cls, QEMU_PLUGIN_CB_NO_REGS, ii);
            }
        }
        return;
    }
    /* The common case: no marker in the block. One add per block entry. */
    if (mode == MODE_TB && !has_marker) {
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, n);
        return;
    }
    /* Per instruction: markers get the marker callback (which counts them), the rest an add of 1. Marker blocks
     * are rare (a marker function's body), so mode=tb pays nothing noticeable for taking this path. */
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        const unsigned m = marker_at(qemu_plugin_insn_vaddr(insn));
        if (m)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)m);
        else if (mode == MODE_CB)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn, QEMU_PLUGIN_CB_NO_REGS, NULL);
        else
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
    }
}

/* ---- Exit: close the open region and report ---- */

static void report_at_exit(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    region_count[current] += executed - current_since;
    current_since = executed;

    FILE *f = out_path ? fopen(out_path, "w") : NULL;
    if (out_path && !f) fprintf(stderr, "icount plugin: cannot write %s\n", out_path);
    char line[128];
#define EMIT(...) do { snprintf(line, sizeof line, __VA_ARGS__); if (f) fputs(line, f); else qemu_plugin_outs(line); } while (0)
    EMIT("icount mode=%s markers=%u\n", mode_names[mode], n_marks);
    for (unsigned m = 0; m <= n_marks; m++) {
        if (m == 0) EMIT("region 0 start %" PRIu64 " %" PRIu64 "\n", region_count[0], region_visits[0]);
        else EMIT("region %u 0x%08" PRIx64 " %" PRIu64 " %" PRIu64 "\n", m, mark_addr[m], region_count[m], region_visits[m]);
    }
    EMIT("total %" PRIu64 "\n", executed);
#undef EMIT
    if (f) fclose(f);
    if (cls_path) {
        FILE *c = fopen(cls_path, "w");
        if (!c) { fprintf(stderr, "icount plugin: cannot write %s\n", cls_path); return; }
        for (unsigned k = 0; k < N_CLS; k++) {
            region_cls[current][k] += cls_now[k] - cls_since[k];
            cls_since[k] = cls_now[k];
        }
        fprintf(c, "classes");
        for (unsigned k = 0; k < N_CLS; k++) fprintf(c, " %s", cls_names[k]);
        fprintf(c, "\n");
        for (unsigned m = 0; m <= n_marks; m++) {
            fprintf(c, "region %u", m);
            for (unsigned k = 0; k < N_CLS; k++) fprintf(c, " %" PRIu64, region_cls[m][k]);
            fprintf(c, "\n");
        }
        fclose(c);
    }
}

/* ---- Loading ---- */

static int fail(const char *msg, const char *arg)
{
    fprintf(stderr, "icount plugin: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    return -1; /* non-zero: QEMU refuses to start */
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    /* One vCPU: the counters are plain (non-atomic) and a region is a span of one instruction stream. */
    if (!info->system_emulation || info->system.max_vcpus != 1) return fail("needs system emulation with exactly one vCPU", NULL);

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "mark=", 5) == 0) {
            char *end;
            const unsigned long long v = strtoull(a + 5, &end, 0);
            if (end == a + 5 || *end != '\0') return fail("bad address", a);
            if (n_marks == MAX_MARKS) return fail("too many markers", a);
            if (marker_at(v)) return fail("marker address given twice", a);
            mark_addr[++n_marks] = v;
        } else if (strncmp(a, "out=", 4) == 0 && a[4]) {
            out_path = a + 4;
        } else if (strncmp(a, "cls=", 4) == 0 && a[4]) {
            cls_path = a + 4;
        } else if (strcmp(a, "mode=tb") == 0) {
            mode = MODE_TB;
        } else if (strcmp(a, "mode=insn") == 0) {
            mode = MODE_INSN;
        } else if (strcmp(a, "mode=cb") == 0) {
            mode = MODE_CB;
        } else {
            return fail("unknown argument (expected mark=ADDR, out=FILE, mode=tb|insn|cb)", a);
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    qemu_plugin_register_atexit_cb(id, report_at_exit, NULL);
    return 0;
}
