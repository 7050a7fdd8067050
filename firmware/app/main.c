/**
 * @file main.c
 * @brief The accuracy-check application: runs the embedded test set through the
 *        generated model on the device and reports what the device computed.
 *
 * For each test image: bnn_model_invoke(), argmax of the scores (float32 or
 * int8, first maximum wins like numpy.argmax), compared with the label and with
 * the oracle (the class LCE's interpreter predicted). Each image whose
 * prediction differs from the oracle is printed. Then accuracy, agreement,
 * instructions (QEMU) / cycles (board) / ns (host) per inference, flash and RAM
 * used and the stack high-water mark, and finally one machine-readable line
 * that bnn_lq.deploy parses:
 *
 *   BNN RESULT {"model":"m","board":"b","images":N,"correct":C,"agree":A,...}
 *
 * Per-inference counts are measured around bnn_model_invoke() only, minus the
 * cost of an empty measurement (the counter reads themselves), averaged over
 * the images (rounded to nearest).
 *
 * Output goes through bnn_port_write() only, formatted by the few helpers below
 * (no printf: keeps the M0 image small).
 *
 * Build: firmware/Makefile defines BNN_HAVE_TESTSET when MODEL_DIR has a
 * testset.h; without one, the app times a single inference on a zero input.
 *
 * Profiling (-DBNN_PROFILE, bnn/bnn_profile.h): after the timed pass, a second pass over
 * the same images runs with the per-operator hooks of the generated code switched on and
 * accumulates bnn_port_cycles() per operator (minus the empty-measurement cost); one line
 * per operator, in invoke order, comes before the BNN RESULT line (which stays last):
 *
 *   BNN OP {"op":3,"name":"LceBconv2d","per_inference":1234567}
 *
 * The timed pass is not profiled (the hooks only test a flag there), so per_inference in
 * BNN RESULT is the model's own cost.
 */
#include <stddef.h>
#include <stdint.h>

#include "bnn/bnn_port.h"
#include "bnn/bnn_profile.h"
#include "model.h"
#if BNN_HAVE_TESTSET
#include "testset.h"
#endif

#if BNN_MODEL_OUTPUT_IS_INT8
#define BNN_APP_SCORE_SIZE 1u
#else
#define BNN_APP_SCORE_SIZE 4u
#endif
/* The output must hold one score per class (compile-time check). */
typedef char bnn_app_output_holds_scores[
    BNN_MODEL_OUTPUT_BYTES >= BNN_MODEL_NUM_CLASSES * BNN_APP_SCORE_SIZE ? 1 : -1];

/* Scores of the last inference; uint32_t storage keeps it aligned for float. */
static uint32_t g_output[(BNN_MODEL_OUTPUT_BYTES + 3u) / 4u];

#if !BNN_HAVE_TESTSET
static uint32_t g_zero_input[(BNN_MODEL_INPUT_BYTES + 3u) / 4u];
#endif

/* ---- Output helpers ---- */

static void put(const char *s)
{
    bnn_port_write(s);
}

static void put_u64(uint64_t v)
{
    char buf[24];
    char *p = buf + sizeof buf - 1;
    *p = '\0';
    do {
        *--p = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    put(p);
}

static void put_i64(int64_t v)
{
    if (v < 0) {
        put("-");
        put_u64((uint64_t)(-(v + 1)) + 1u);
    } else {
        put_u64((uint64_t)v);
    }
}

/* num / den with 6 decimals, rounded to nearest ("0.871094"); "null" if den = 0. */
static void put_ratio(uint32_t num, uint32_t den)
{
    if (den == 0u) {
        put("null");
        return;
    }
    uint64_t scaled = ((uint64_t)num * 1000000u + den / 2u) / den;
    put_u64(scaled / 1000000u);
    char frac[8];
    uint32_t f = (uint32_t)(scaled % 1000000u);
    for (int i = 5; i >= 0; --i) {
        frac[i] = (char)('0' + (int)(f % 10u));
        f /= 10u;
    }
    frac[6] = '\0';
    put(".");
    put(frac);
}

/* A JSON string: quotes and backslashes escaped, control characters dropped. */
static void put_json_string(const char *s)
{
    char one[2] = {0, 0};
    put("\"");
    for (; *s != '\0'; ++s) {
        if (*s == '"' || *s == '\\') {
            put("\\");
        }
        if ((unsigned char)*s >= 0x20u) {
            one[0] = *s;
            put(one);
        }
    }
    put("\"");
}

static void put_key(const char *key)
{
    put(",\"");
    put(key);
    put("\":");
}

/* ---- Inference ---- */

/* Index of the largest score; the first one on ties (numpy.argmax). */
static unsigned argmax(const void *scores)
{
    unsigned best = 0u;
#if BNN_MODEL_OUTPUT_IS_INT8
    const int8_t *s = (const int8_t *)scores;
#else
    const float *s = (const float *)scores;
#endif
    for (unsigned i = 1u; i < BNN_MODEL_NUM_CLASSES; ++i) {
        if (s[i] > s[best]) {
            best = i;
        }
    }
    return best;
}

/* Cost of an empty measurement (two counter reads): the minimum of a few. */
static uint64_t measurement_overhead(void)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 4; ++i) {
        uint64_t c0 = bnn_port_cycles();
        uint64_t c1 = bnn_port_cycles();
        if (c1 - c0 < best) {
            best = c1 - c0;
        }
    }
    return best;
}

#ifdef BNN_PROFILE
/* ---- Per-operator profile (bnn_profile.h) ---- */

#ifndef BNN_PROFILE_MAX_OPS
#define BNN_PROFILE_MAX_OPS 128
#endif

typedef struct {
    const char *name; /* the generated code's OPNAME literal */
    uint32_t index;   /* operator index in the .tflite graph */
    uint32_t calls;   /* profiled calls */
    uint64_t total;   /* summed cost of those calls */
} bnn_app_op_t;

static bnn_app_op_t g_ops[BNN_PROFILE_MAX_OPS];
static uint32_t g_num_ops;
static int g_profiling;       /* hooks record only while set */
static uint64_t g_op_start;   /* bnn_port_cycles() at the last begin */
static uint64_t g_op_overhead;

/* Slot of operator index, in first-call order (the invoke order); NULL when full. */
static bnn_app_op_t *op_slot(uint32_t index, const char *name)
{
    for (uint32_t i = 0u; i < g_num_ops; ++i) {
        if (g_ops[i].index == index) {
            return &g_ops[i];
        }
    }
    if (g_num_ops == BNN_PROFILE_MAX_OPS) {
        return NULL;
    }
    g_ops[g_num_ops].index = index;
    g_ops[g_num_ops].name = name;
    return &g_ops[g_num_ops++];
}

void bnn_profile_begin(uint32_t index, const char *name)
{
    if (g_profiling) {
        (void)op_slot(index, name);
        g_op_start = bnn_port_cycles();
    }
}

void bnn_profile_end(uint32_t index)
{
    if (g_profiling) {
        const uint64_t cost = bnn_port_cycles() - g_op_start;
        bnn_app_op_t *op = op_slot(index, "?");
        if (op != NULL) {
            op->total += cost > g_op_overhead ? cost - g_op_overhead : 0u;
            op->calls += 1u;
        }
    }
}
#endif

/* Runs one inference; returns its cost, or exits with code 2 on a runtime error. */
static uint64_t invoke_timed(const void *input, uint32_t index, uint64_t overhead)
{
    uint64_t c0 = bnn_port_cycles();
    int status = bnn_model_invoke(input, g_output);
    uint64_t c1 = bnn_port_cycles();
    if (status != 0) {
        put("BNN ERROR: bnn_model_invoke returned status ");
        put_i64(status);
        put(" on image ");
        put_u64(index);
        put("\n");
        bnn_port_exit(2);
    }
    uint64_t cost = c1 - c0;
    return cost > overhead ? cost - overhead : 0u;
}

int main(void)
{
    bnn_port_init();
    put("bnn-lq accuracy check: model ");
    put(BNN_MODEL_NAME);
    put(" on ");
    put(bnn_port_board());
    put("\n");

    const uint64_t overhead = measurement_overhead();
    uint64_t total = 0u;
    uint32_t images = 0u;
    uint32_t correct = 0u;
    uint32_t agree = 0u;
    uint32_t oracle_correct = 0u; /* the oracle's own accuracy on these images */

#if BNN_HAVE_TESTSET
    for (uint32_t i = 0u; i < BNN_TESTSET_COUNT; ++i) {
        total += invoke_timed(bnn_testset_images[i], i, overhead);
        unsigned predicted = argmax(g_output);
        correct += (predicted == bnn_testset_labels[i]) ? 1u : 0u;
        oracle_correct += (bnn_testset_oracle[i] == bnn_testset_labels[i]) ? 1u : 0u;
        if (predicted == bnn_testset_oracle[i]) {
            agree += 1u;
        } else {
            put("image ");
            put_u64(i);
            put(": label ");
            put_u64(bnn_testset_labels[i]);
            put(", oracle ");
            put_u64(bnn_testset_oracle[i]);
            put(", device ");
            put_u64(predicted);
            put("\n");
        }
        images += 1u;
    }
    const uint64_t per_inference = images ? (total + images / 2u) / images : 0u;
#else
    const uint64_t per_inference = invoke_timed(g_zero_input, 0u, overhead);
    put("no test set embedded: timed one inference on a zero input\n");
#endif

#ifdef BNN_PROFILE
    /* The profiled pass: the same images again, hooks on. */
    g_op_overhead = overhead;
    g_profiling = 1;
#if BNN_HAVE_TESTSET
    for (uint32_t i = 0u; i < BNN_TESTSET_COUNT; ++i) {
        (void)invoke_timed(bnn_testset_images[i], i, overhead);
    }
#else
    (void)invoke_timed(g_zero_input, 0u, overhead);
#endif
    g_profiling = 0;
    put("per operator (");
    put(bnn_port_cycle_unit());
    put(" per inference):\n");
    for (uint32_t i = 0u; i < g_num_ops; ++i) {
        const uint32_t calls = g_ops[i].calls ? g_ops[i].calls : 1u;
        put("BNN OP {\"op\":");
        put_u64(g_ops[i].index);
        put_key("name");
        put_json_string(g_ops[i].name);
        put_key("per_inference");
        put_u64((g_ops[i].total + calls / 2u) / calls);
        put("}\n");
    }
#endif

    const size_t flash = bnn_port_flash_used();
    const size_t ram = bnn_port_ram_used();
    const long stack = bnn_port_stack_high_water();

    put("images: ");
    put_u64(images);
    put("\naccuracy: ");
    put_ratio(correct, images);
    put(" (");
    put_u64(correct);
    put("/");
    put_u64(images);
    put("), LCE: ");
    put_ratio(oracle_correct, images);
    put(" (");
    put_u64(oracle_correct);
    put("/");
    put_u64(images);
    put(")\nagreement with LCE: ");
    put_ratio(agree, images);
    put(" (");
    put_u64(agree);
    put("/");
    put_u64(images);
    put(")\n");
    put(bnn_port_cycle_unit());
    put(" per inference: ");
    put_u64(per_inference);
    put("\nflash: ");
    put_u64(flash);
    put(" bytes, RAM: ");
    put_u64(ram);
    put(" bytes (arena ");
    put_u64(BNN_MODEL_ARENA_BYTES);
    put("), stack high-water: ");
    if (stack < 0) {
        put("n/a");
    } else {
        put_i64(stack);
        put(" bytes");
    }
    put("\n");

    put("BNN RESULT {\"model\":");
    put_json_string(BNN_MODEL_NAME);
    put_key("board");
    put_json_string(bnn_port_board());
    put_key("images");
    put_u64(images);
    put_key("correct");
    put_u64(correct);
    put_key("agree");
    put_u64(agree);
    put_key("oracle_correct");
    put_u64(oracle_correct);
    put_key("accuracy");
    put_ratio(correct, images);
    put_key("agreement");
    put_ratio(agree, images);
    put_key("per_inference");
    put_u64(per_inference);
    put_key("unit");
    put_json_string(bnn_port_cycle_unit());
    put_key("flash_bytes");
    put_u64(flash);
    put_key("ram_bytes");
    put_u64(ram);
    put_key("stack_bytes");
    if (stack < 0) {
        put("null");
    } else {
        put_i64(stack);
    }
    put_key("arena_bytes");
    put_u64(BNN_MODEL_ARENA_BYTES);
    put_key("weight_bytes");
    put_u64(BNN_MODEL_WEIGHT_BYTES);
    put("}\n");
    return 0;
}
