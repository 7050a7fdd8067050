/*
 * Batch runner for host and ARM Linux builds: reads whole model inputs from the file
 * argv[1] (raw bytes, BNN_MODEL_INPUT_BYTES per image, back to back), runs
 * bnn_model_invoke on each, and writes the raw outputs to argv[2].
 *
 * This is how `bnn-lq eval --runtime c-host` evaluates the C runtime on a whole test
 * set without embedding it in the firmware image.
 */
#include <stdint.h>
#include <stdio.h>

#include "model.h"

/* uint32_t buffers: inputs and outputs are read as float32/int8 words, 4-byte aligned. */
static uint32_t in_buf[(BNN_MODEL_INPUT_BYTES + 3u) / 4u];
static uint32_t out_buf[(BNN_MODEL_OUTPUT_BYTES + 3u) / 4u];

int main(int argc, char **argv)
{
    FILE *fi;
    FILE *fo;
    long images = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: %s INPUTS.bin OUTPUTS.bin\n", argv[0]);
        return 2;
    }
    fi = fopen(argv[1], "rb");
    if (fi == NULL) {
        fprintf(stderr, "%s: cannot open %s\n", argv[0], argv[1]);
        return 2;
    }
    fo = fopen(argv[2], "wb");
    if (fo == NULL) {
        fprintf(stderr, "%s: cannot create %s\n", argv[0], argv[2]);
        fclose(fi);
        return 2;
    }
    while (fread(in_buf, 1, BNN_MODEL_INPUT_BYTES, fi) == BNN_MODEL_INPUT_BYTES) {
        int status = bnn_model_invoke(in_buf, out_buf);
        if (status != 0) {
            fprintf(stderr, "%s: bnn_model_invoke failed on image %ld with status %d\n",
                    argv[0], images, status);
            fclose(fi);
            fclose(fo);
            return 1;
        }
        if (fwrite(out_buf, 1, BNN_MODEL_OUTPUT_BYTES, fo) != BNN_MODEL_OUTPUT_BYTES) {
            fprintf(stderr, "%s: write to %s failed\n", argv[0], argv[2]);
            fclose(fi);
            fclose(fo);
            return 1;
        }
        images++;
    }
    fclose(fi);
    return fclose(fo) == 0 ? 0 : 1;
}
