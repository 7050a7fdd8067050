/* Hand-built parameter sets where a clamp used to hide an infinite bound in the fused
 * kernel's monotone-chain check (found in review): the optimized kernel must give the
 * reference's bits. Built and run on the host by tests/firmware_opt/test_opt_kernels.py. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "bnn/bnn_fused.h"
bnn_status_t bnn_conv2d_pool_quantize_opt(const bnn_fused_params_t *p, const void *in, uint32_t *out);

static bnn_window_t win(int ih, int iw, int oh, int ow, int k, int s) {
    bnn_window_t w = {1, ih, iw, oh, ow, k, k, s, s, 1, 1, 0, 0};
    return w;
}
static int run(const char *name, const bnn_fused_params_t *p, const void *in) {
    uint32_t r[4] = {0}, o[4] = {0};
    int sr = bnn_conv2d_pool_quantize_ref(p, in, r);
    int so = bnn_conv2d_pool_quantize_opt(p, in, o);
    printf("%-34s ref st=%d word=%08x  opt st=%d word=%08x  %s\n", name, sr, r[0], so, o[0],
           (sr == so && r[0] == o[0]) ? "same" : "DIFFERENT");
    return r[0] != o[0];
}
/* 2x2 map, one channel, float 1x1 conv (in_c channels), then a 2x2/2 max-pool (or bpool). */
static bnn_fused_params_t fparams(bnn_conv2d_f32_params_t *cp, const float *w, int in_c, int bpool) {
    bnn_fused_params_t p;
    memset(&p, 0, sizeof p);
    cp->win = win(2, 2, 2, 2, 1, 1);
    cp->in_c = in_c; cp->out_c = 1; cp->groups = 1;
    cp->act_min = -FLT_MAX; cp->act_max = FLT_MAX;
    p.src = BNN_FUSED_CONV_F32; p.conv_f32 = cp; p.filter = w;
    p.batch = 1; p.map_h = 2; p.map_w = 2; p.channels = 1;
    if (bpool) { p.has_bpool = 1; p.bpool = win(2, 2, 1, 1, 2, 2); }
    else { p.has_pool = 1; p.pool = win(2, 2, 1, 1, 2, 2); }
    p.pool_act_min = -FLT_MAX; p.pool_act_max = FLT_MAX;
    p.pack_channels = 1;
    return p;
}
int main(void) {
    int bad = 0;
    { /* 1: stage MUL by +inf, clamp [-1, 1]: the clamp launders yb = inf */
        bnn_conv2d_f32_params_t cp; static const float w[1] = {1.0f};
        static const float in[4] = {0.0f, -1.0f, -2.0f, -3.0f}, k[1] = {INFINITY};
        bnn_fused_params_t p = fparams(&cp, w, 1, 0);
        p.n_stages = 1;
        p.stages[0].op = BNN_FUSED_MUL; p.stages[0].c = k; p.stages[0].act_min = -1.0f; p.stages[0].act_max = 1.0f;
        bad += run("stage MUL +inf, clamp[-1,1]", &p, in);
    }
    { /* 2: finite huge input, abound = inf, sentinel thr = inf */
        bnn_conv2d_f32_params_t cp; static const float w[1] = {2.0f};
        static const float in[4] = {3e38f, 0.0f, 0.0f, 0.0f};
        bnn_fused_params_t p = fparams(&cp, w, 1, 0);
        cp.act_min = -6.0f; cp.act_max = -1.0f;
        bad += run("input 3e38, act [-6,-1] (pool)", &p, in);
        p = fparams(&cp, w, 1, 1);
        cp.act_min = -6.0f; cp.act_max = -1.0f;
        bad += run("input 3e38, act [-6,-1] (bpool)", &p, in);
    }
    { /* 3: finite input, accumulator inf + -inf = NaN at the window's first position */
        bnn_conv2d_f32_params_t cp; static const float w[2] = {2.0f, 2.0f};
        static const float in[8] = {3e38f, -3e38f, 0, 0, 0, 0, 0, 0}, k[1] = {3.0f};
        bnn_fused_params_t p = fparams(&cp, w, 2, 0);
        cp.act_min = 0.0f; cp.act_max = 6.0f;
        p.n_stages = 1;
        p.stages[0].op = BNN_FUSED_SUB_XC; p.stages[0].c = k; p.stages[0].act_min = -FLT_MAX; p.stages[0].act_max = FLT_MAX;
        bad += run("acc NaN first, relu6, -3", &p, in);
    }
    { /* 3b: same via +-scale packed weights with scale = +inf */
        bnn_conv2d_f32_params_t cp; static const uint32_t w[1] = {0u};
        static const float in[4] = {0.0f, -1.0f, -2.0f, -3.0f}, sc[1] = {INFINITY};
        bnn_fused_params_t p = fparams(&cp, (const float *)w, 1, 0);
        p.src = BNN_FUSED_CONV_BINW_F32; p.filter = w; p.scale = sc;
        cp.act_min = -1.0f; cp.act_max = 1.0f;
        bad += run("binw scale +inf, act [-1,1]", &p, in);
    }
    { /* 4: LceBconv2d, clamp_min = clamp_max = 2^30 > 2 * bits: xb underestimates */
        bnn_bconv2d_params_t bp; static const uint32_t filt[1] = {0u}, in[4] = {0, 0, 0, 0};
        static const float mul[1] = {4e36f}, bias[1] = {0.0f}, k[1] = {0.0f};
        bnn_fused_params_t p;
        memset(&p, 0, sizeof p); memset(&bp, 0, sizeof bp);
        bp.win = win(2, 2, 2, 2, 1, 1); bp.channels_in = 1; bp.channels_out = 1; bp.groups = 1;
        bp.pad_mode = BNN_BPAD_ONE; bp.out_type = BNN_OUT_F32;
        bp.clamp_min = 1 << 30; bp.clamp_max = 1 << 30; bp.mul = mul; bp.bias = bias;
        p.src = BNN_FUSED_BCONV; p.bconv = &bp; p.filter = filt;
        p.batch = 1; p.map_h = 2; p.map_w = 2; p.channels = 1;
        p.n_stages = 1; p.stages[0].op = BNN_FUSED_MUL; p.stages[0].c = k;
        p.stages[0].act_min = -FLT_MAX; p.stages[0].act_max = FLT_MAX;
        p.has_pool = 1; p.pool = win(2, 2, 1, 1, 2, 2);
        p.pool_act_min = -FLT_MAX; p.pool_act_max = FLT_MAX; p.pack_channels = 1;
        bad += run("bconv clamp 2^30, mul 4e36, *0", &p, in);
    }
    printf("%d case(s) differ\n", bad);
    return 0;
}
