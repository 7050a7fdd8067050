"""Writes the stand-in model used by the firmware target tests: a tiny linear
classifier as model.c/model.h plus a test set (testset.c/testset.h), in the
same interface bnn_lq.convert.codegen emits, so the build/run/parse chain of
bnn_lq.deploy is tested without the code generator or the runtime kernels.

Two flavours:
  float32: float input [4, 4, 1], scores = W x + b in float32, accumulated in the
           same order as the C loop (and with -ffp-contract=off, no FMA), so the
           oracle computed here is exactly what the device computes.
  int8:    int8 input, int8 weights, int32 accumulation, scores = clamp(acc >> 4)
           as int8: integer arithmetic, exact everywhere.

Labels are the oracle's classes except for a few flipped on purpose (accuracy
below 1 exercises the counting); ``corrupt_oracle`` flips oracle entries so the
device disagrees on purpose (exercises the mismatch report and the non-zero
exit of ``bnn-lq deploy run``).

Usage: python make_standin.py OUT_DIR [--dtype int8] [--count 12]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

__all__ = ["write", "predict"]

H, W, C, CLASSES = 4, 4, 1, 3
N_IN = H * W * C
SEED = 11
FLIPPED_LABELS = (2, 7)  # images whose label differs from the oracle on purpose


def _params(dtype: str):
    rng = np.random.default_rng(SEED)
    if dtype == "float32":
        w = rng.uniform(-1, 1, size=(CLASSES, N_IN)).astype(np.float32)
        b = rng.uniform(-0.1, 0.1, size=CLASSES).astype(np.float32)
    else:
        w = rng.integers(-64, 64, size=(CLASSES, N_IN)).astype(np.int8)
        b = rng.integers(-200, 200, size=CLASSES).astype(np.int32)
    return w, b


def _images(dtype: str, count: int) -> np.ndarray:
    rng = np.random.default_rng(SEED + 1)
    if dtype == "float32":
        return rng.uniform(-1, 1, size=(count, N_IN)).astype(np.float32)
    return rng.integers(-128, 128, size=(count, N_IN)).astype(np.int8)


def predict(x: np.ndarray, dtype: str) -> np.ndarray:
    """Scores of the stand-in for inputs ``x`` [N, 16], computed in the C loop's order."""
    w, b = _params(dtype)
    out = []
    for img in x:
        scores = []
        for c in range(CLASSES):
            if dtype == "float32":
                acc = np.float32(b[c])
                for i in range(N_IN):
                    acc = np.float32(acc + np.float32(w[c, i] * img[i]))
                scores.append(acc)
            else:
                acc = int(b[c]) + sum(int(w[c, i]) * int(img[i]) for i in range(N_IN))
                scores.append(np.int8(max(-128, min(127, acc >> 4))))
        out.append(scores)
    return np.array(out, dtype=np.float32 if dtype == "float32" else np.int8)


def _c_array(values, fmt) -> str:
    items = [fmt(v) for v in values]
    return ",\n".join("    " + ", ".join(items[i:i + 8]) for i in range(0, len(items), 8))


def _float(v) -> str:
    return f"{float(v):.9g}f" if np.isfinite(v) else "0.0f"


def write(out_dir: str | os.PathLike, *, dtype: str = "float32", count: int = 12,
          corrupt_oracle: tuple[int, ...] = (), name: str | None = None) -> dict:
    """Writes model.c/model.h/testset.c/testset.h into ``out_dir``.

    Returns:
        ``{"images": count, "correct": C, "agree": A}``: what the device must report.
    """
    if dtype not in ("float32", "int8"):
        raise ValueError(f"dtype must be 'float32' or 'int8', got {dtype!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = name or f"standin_linear_{dtype}"
    w, b = _params(dtype)
    x = _images(dtype, count)
    scores = predict(x, dtype)
    oracle = scores.argmax(axis=1).astype(np.uint8)
    labels = oracle.copy()
    for i in FLIPPED_LABELS:
        if i < count:
            labels[i] = (labels[i] + 1) % CLASSES
    device_oracle = oracle.copy()
    for i in corrupt_oracle:
        device_oracle[i] = (device_oracle[i] + 1) % CLASSES
    is_int8 = dtype == "int8"
    elem = 1 if is_int8 else 4

    header = f"/* Stand-in model written by tests/firmware_targets/standin/make_standin.py ({dtype}). */\n"
    (out / "model.h").write_text(header + f"""#ifndef BNN_MODEL_H
#define BNN_MODEL_H

#define BNN_MODEL_NAME "{name}"
#define BNN_MODEL_INPUT_BYTES {N_IN * elem}u
#define BNN_MODEL_OUTPUT_BYTES {CLASSES * elem}u
#define BNN_MODEL_NUM_CLASSES {CLASSES}u
#define BNN_MODEL_INPUT_IS_INT8 {int(is_int8)}
#define BNN_MODEL_OUTPUT_IS_INT8 {int(is_int8)}
#define BNN_MODEL_ARENA_BYTES {CLASSES * 4}u
#define BNN_MODEL_WEIGHT_BYTES {w.nbytes + b.nbytes}u

int bnn_model_invoke(const void *input, void *output);

#endif
""")
    if is_int8:
        body = f"""static const signed char w[{CLASSES * N_IN}] = {{
{_c_array(w.reshape(-1), str)}
}};
static const long b[{CLASSES}] = {{ {", ".join(str(int(v)) for v in b)} }};
static long arena[{CLASSES}];

int bnn_model_invoke(const void *input, void *output)
{{
    const signed char *x = (const signed char *)input;
    signed char *y = (signed char *)output;
    for (int c = 0; c < {CLASSES}; ++c) {{
        long acc = b[c];
        for (int i = 0; i < {N_IN}; ++i) {{
            acc += (long)w[c * {N_IN} + i] * x[i];
        }}
        arena[c] = acc;
    }}
    for (int c = 0; c < {CLASSES}; ++c) {{
        long v = arena[c] >= 0 ? arena[c] / 16 : -((-arena[c] + 15) / 16); /* floor(acc / 16) */
        y[c] = (signed char)(v > 127 ? 127 : (v < -128 ? -128 : v));
    }}
    return 0;
}}
"""
    else:
        body = f"""static const float w[{CLASSES * N_IN}] = {{
{_c_array(w.reshape(-1), _float)}
}};
static const float b[{CLASSES}] = {{ {", ".join(_float(v) for v in b)} }};
static float arena[{CLASSES}];

int bnn_model_invoke(const void *input, void *output)
{{
    const float *x = (const float *)input;
    float *y = (float *)output;
    for (int c = 0; c < {CLASSES}; ++c) {{
        float acc = b[c];
        for (int i = 0; i < {N_IN}; ++i) {{
            acc = acc + w[c * {N_IN} + i] * x[i];
        }}
        arena[c] = acc;
    }}
    for (int c = 0; c < {CLASSES}; ++c) {{
        y[c] = arena[c];
    }}
    return 0;
}}
"""
    (out / "model.c").write_text(header + '#include "model.h"\n\n' + body)

    raw = x.astype("<f4" if not is_int8 else np.int8).tobytes()
    per = N_IN * elem
    rows = ",\n".join(
        "    {" + ", ".join(f"0x{v:02x}" for v in raw[i * per:(i + 1) * per]) + "}"
        for i in range(count))
    (out / "testset.h").write_text(header + f"""#ifndef BNN_TESTSET_H
#define BNN_TESTSET_H

#include "model.h"

#define BNN_TESTSET_COUNT {count}u

extern const unsigned char bnn_testset_images[BNN_TESTSET_COUNT][BNN_MODEL_INPUT_BYTES];
extern const unsigned char bnn_testset_labels[BNN_TESTSET_COUNT];
extern const unsigned char bnn_testset_oracle[BNN_TESTSET_COUNT];

#endif
""")
    (out / "testset.c").write_text(header + f"""#include "testset.h"

__attribute__((aligned(4))) const unsigned char bnn_testset_images[BNN_TESTSET_COUNT][BNN_MODEL_INPUT_BYTES] = {{
{rows}
}};
const unsigned char bnn_testset_labels[BNN_TESTSET_COUNT] = {{ {", ".join(str(int(v)) for v in labels)} }};
const unsigned char bnn_testset_oracle[BNN_TESTSET_COUNT] = {{ {", ".join(str(int(v)) for v in device_oracle)} }};
""")
    predicted = oracle  # what the device computes
    return {"images": count, "correct": int((predicted == labels).sum()),
            "agree": int((predicted == device_oracle).sum())}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--dtype", default="float32", choices=("float32", "int8"))
    ap.add_argument("--count", type=int, default=12)
    args = ap.parse_args()
    print(write(args.out_dir, dtype=args.dtype, count=args.count))
