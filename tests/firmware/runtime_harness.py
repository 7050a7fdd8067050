"""Host build of the C runtime (firmware/runtime/) and a ctypes bridge to its kernels.

``build_runtime(out_dir)`` compiles every runtime source plus a capturing port
(``port_capture.c``) into a shared library with the project's flags; ``Runtime`` wraps it.
``run_op(rt, model, op_index, values)`` runs one operator of a converted ``.tflite`` with
the C kernel, fed with the oracle's actual input values, and returns the C output: it is
a tiny Python "code generator" that fills each params struct from the flatbuffer exactly
as generated model code would (TFLite's Prepare-time constants: quantized multipliers,
activation ranges; LCE's double-precision output transform, spec §6.5).

The ctypes structs mirror firmware/runtime/include/bnn/bnn_kernels.h field by field.
"""

from __future__ import annotations

import ctypes as C
import math
import os
import subprocess
from pathlib import Path

import numpy as np

__all__ = ["CFLAGS", "RUNTIME_DIR", "Runtime", "build_runtime", "runtime_sources", "run_op",
           "quantize_multiplier"]

REPO = Path(__file__).resolve().parents[2]
RUNTIME_DIR = REPO / "firmware" / "runtime"
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-ffp-contract=off"]
FLT_MAX = float(np.finfo(np.float32).max)


def runtime_sources() -> list[Path]:
    """Every C file the targets link: kernels/*.c, kernels/ref/*.c, kernels/opt/*.c, src/*.c."""
    files: list[Path] = []
    for sub in ("kernels", "kernels/ref", "kernels/opt", "src"):
        files += sorted((RUNTIME_DIR / sub).glob("*.c"))
    return files


def build_runtime(out_dir: str | os.PathLike, *, extra_flags: tuple[str, ...] = ()) -> Path:
    """Compiles the runtime + the capturing test port into ``out_dir/libbnn.so``."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    out = Path(out_dir) / "libbnn.so"
    cmd = ["gcc", *CFLAGS, *extra_flags, "-shared", "-fPIC",
           "-I", str(RUNTIME_DIR / "include"),
           *map(str, runtime_sources()), str(Path(__file__).with_name("port_capture.c")),
           "-lm", "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"runtime build failed: {' '.join(cmd)}\n{done.stderr}")
    return out


# --------------------------------------------------------------------------------------
# ctypes mirrors of bnn_kernels.h
# --------------------------------------------------------------------------------------
I32, F32, P = C.c_int32, C.c_float, C.c_void_p


class Window(C.Structure):
    _fields_ = [(n, I32) for n in ("batch", "in_h", "in_w", "out_h", "out_w", "kernel_h",
                                   "kernel_w", "stride_h", "stride_w", "dilation_h",
                                   "dilation_w", "pad_top", "pad_left")]


class Broadcast(C.Structure):
    _fields_ = [("out_shape", I32 * 4), ("in1_stride", I32 * 4), ("in2_stride", I32 * 4)]


def _struct(name, fields):
    return type(name, (C.Structure,), {"_fields_": fields})


QuantizeParams = _struct("QuantizeParams", [("rows", I32), ("channels", I32), ("zero_point", I32)])
DequantizeParams = _struct("DequantizeParams", [("rows", I32), ("channels", I32), ("scale", F32),
                                                ("zero_point", I32)])
BconvParams = _struct("BconvParams", [
    ("win", Window), ("channels_in", I32), ("channels_out", I32), ("groups", I32),
    ("pad_mode", C.c_int), ("out_type", C.c_int), ("clamp_min", I32), ("clamp_max", I32),
    ("mul", P), ("bias", P), ("threshold", P)])
BmaxpoolParams = _struct("BmaxpoolParams", [("win", Window), ("channels", I32)])
ConvF32Params = _struct("ConvF32Params", [("win", Window), ("in_c", I32), ("out_c", I32),
                                          ("groups", I32), ("act_min", F32), ("act_max", F32)])
ConvS8Params = _struct("ConvS8Params", [
    ("win", Window), ("in_c", I32), ("out_c", I32), ("groups", I32), ("input_offset", I32),
    ("output_offset", I32), ("out_multiplier", P), ("out_shift", P), ("act_min", I32),
    ("act_max", I32), ("rounding", C.c_int)])
DwF32Params = _struct("DwF32Params", [("win", Window), ("in_c", I32), ("depth_multiplier", I32),
                                      ("act_min", F32), ("act_max", F32)])
DwS8Params = _struct("DwS8Params", [
    ("win", Window), ("in_c", I32), ("depth_multiplier", I32), ("input_offset", I32),
    ("output_offset", I32), ("out_multiplier", P), ("out_shift", P), ("act_min", I32),
    ("act_max", I32), ("rounding", C.c_int)])
FcF32Params = _struct("FcF32Params", [("rows", I32), ("in_features", I32), ("out_features", I32),
                                      ("act_min", F32), ("act_max", F32)])
FcS8Params = _struct("FcS8Params", [
    ("rows", I32), ("in_features", I32), ("out_features", I32), ("input_offset", I32),
    ("filter_offset", I32), ("output_offset", I32), ("per_channel", I32),
    ("out_multiplier", P), ("out_shift", P), ("act_min", I32), ("act_max", I32),
    ("rounding", C.c_int)])
PoolF32Params = _struct("PoolF32Params", [("win", Window), ("channels", I32), ("act_min", F32),
                                          ("act_max", F32)])
PoolS8Params = _struct("PoolS8Params", [("win", Window), ("channels", I32), ("act_min", I32),
                                        ("act_max", I32)])
MeanF32Params = _struct("MeanF32Params", [("batch", I32), ("in_h", I32), ("in_w", I32),
                                          ("channels", I32)])
MeanS8Params = _struct("MeanS8Params", [
    ("batch", I32), ("in_h", I32), ("in_w", I32), ("channels", I32), ("mode", C.c_int),
    ("input_zero_point", I32), ("output_zero_point", I32), ("scale", F32)])
BinaryF32Params = _struct("BinaryF32Params", [("bc", Broadcast), ("act_min", F32),
                                              ("act_max", F32)])
AddS8Params = _struct("AddS8Params", [("bc", Broadcast)] + [(n, I32) for n in (
    "left_shift", "in1_offset", "in1_multiplier", "in1_shift", "in2_offset", "in2_multiplier",
    "in2_shift", "out_multiplier", "out_shift", "output_offset", "act_min", "act_max")])
MulS8Params = _struct("MulS8Params", [("bc", Broadcast)] + [(n, I32) for n in (
    "in1_offset", "in2_offset", "out_multiplier", "out_shift", "output_offset", "act_min",
    "act_max")])
PadParams = _struct("PadParams", [("in_shape", I32 * 4), ("pad_before", I32 * 4),
                                  ("pad_after", I32 * 4)])
ConcatParams = _struct("ConcatParams", [("n_inputs", I32), ("outer", I32), ("inner_bytes", P)])
SoftmaxF32Params = _struct("SoftmaxF32Params", [("rows", I32), ("depth", I32), ("beta", F32)])
SoftmaxS8Params = _struct("SoftmaxS8Params", [("rows", I32), ("depth", I32), ("out_scale", F32),
                                              ("output_zero_point", I32), ("table", P)])
AffineParams = _struct("AffineParams", [("count", I32), ("scale", F32), ("zero_point", I32)])
RequantParams = _struct("RequantParams", [(n, I32) for n in (
    "count", "input_zero_point", "output_zero_point", "multiplier", "shift", "act_min",
    "act_max")])
ClampF32Params = _struct("ClampF32Params", [("count", I32), ("act_min", F32), ("act_max", F32)])
LutS8Params = _struct("LutS8Params", [("count", I32), ("table", P)])
LeakyF32Params = _struct("LeakyF32Params", [("count", I32), ("alpha", F32)])
LeakyS8Params = _struct("LeakyS8Params", [(n, I32) for n in (
    "count", "input_zero_point", "output_zero_point", "identity_multiplier", "identity_shift",
    "alpha_multiplier", "alpha_shift")])
PreluS8Params = _struct("PreluS8Params", [("bc", Broadcast)] + [(n, I32) for n in (
    "input_offset", "alpha_offset", "output_offset", "multiplier_1", "shift_1", "multiplier_2",
    "shift_2")])

BPAD_ONE, BPAD_ZERO_INT, BPAD_ZERO_FLOAT = 0, 1, 2
OUT_F32, OUT_S8, OUT_PACKED = 0, 1, 2
# The oracle runs TFLite's optimized int8 conv / depthwise / FC kernels: ties round up.
ROUND_AWAY, ROUND_UP = 0, 1


class Runtime:
    """The compiled library: ``rt.call("bconv2d", params, *arrays)`` -> status int."""

    def __init__(self, lib_path: str | os.PathLike):
        self.lib = C.CDLL(str(lib_path))
        self.lib.bnn_status_name.restype = C.c_char_p
        self.lib.bnn_test_log.restype = C.c_char_p

    def call(self, fn: str, params, *args) -> int:
        conv = []
        for a in args:
            if isinstance(a, np.ndarray):
                assert a.flags["C_CONTIGUOUS"]
                conv.append(a.ctypes.data_as(P))
            else:
                conv.append(a)
        return getattr(self.lib, "bnn_" + fn)(C.byref(params), *conv)

    def log(self) -> str:
        return self.lib.bnn_test_log().decode()

    def clear_log(self) -> None:
        self.lib.bnn_test_log_clear()


def _ptr(a: np.ndarray):
    return a.ctypes.data_as(P)


# --------------------------------------------------------------------------------------
# TFLite Prepare-time arithmetic (what the code generator must reproduce)
# --------------------------------------------------------------------------------------
def _round_half_away(x: float) -> int:
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: real = m * 2^(shift - 31), m in [2^30, 2^31)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = _round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def _act_f32(code: int) -> tuple[float, float]:
    return {0: (-FLT_MAX, FLT_MAX), 1: (0.0, FLT_MAX), 2: (-1.0, 1.0), 3: (0.0, 6.0)}[code]


def _act_s8(code: int, scale: float, zp: int) -> tuple[int, int]:
    def q(f):
        return zp + _round_half_away(float(np.float32(f) / np.float32(scale)))
    lo, hi = -128, 127
    if code == 1:
        lo = max(lo, q(0.0))
    elif code == 3:
        lo, hi = max(lo, q(0.0)), min(hi, q(6.0))
    elif code == 2:
        lo, hi = max(lo, q(-1.0)), min(hi, q(1.0))
    return lo, hi


# --------------------------------------------------------------------------------------
# Flatbuffer access
# --------------------------------------------------------------------------------------
class Model:
    """A parsed .tflite (LCE's schema module) with helpers to read tensors."""

    def __init__(self, fb: bytes):
        from larq_compute_engine.mlir.python import tflite_schema as s
        self.s = s
        self.m = s.ModelT.InitFromObj(s.Model.GetRootAsModel(fb, 0))
        self.sub = self.m.subgraphs[0]
        self.ops = self.sub.operators
        self._builtin = {v: k for k, v in vars(s.BuiltinOperator).items() if k.isupper()}

    def op_name(self, i: int) -> str:
        oc = self.m.operatorCodes[self.ops[i].opcodeIndex]
        code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
        if code == self.s.BuiltinOperator.CUSTOM:
            return oc.customCode.decode() if isinstance(oc.customCode, bytes) else oc.customCode
        return self._builtin[code]

    def tensor(self, t: int):
        return self.sub.tensors[t]

    def shape(self, t: int) -> tuple[int, ...]:
        return tuple(int(d) for d in self.tensor(t).shape)

    def dtype(self, t: int):
        T = self.s.TensorType
        return {T.FLOAT32: np.float32, T.INT32: np.int32, T.INT8: np.int8, T.BOOL: np.bool_,
                T.UINT8: np.uint8, T.INT64: np.int64}[self.tensor(t).type]

    def quant(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        q = self.tensor(t).quantization
        if q is None or q.scale is None:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        return np.asarray(q.scale, np.float32), np.asarray(q.zeroPoint, np.int64)

    def sq(self, t: int) -> tuple[float, int]:
        s, z = self.quant(t)
        return float(s[0]), int(z[0])

    def const(self, t: int) -> np.ndarray | None:
        buf = self.m.buffers[self.tensor(t).buffer]
        if buf.data is None or len(buf.data) == 0:
            return None
        return np.frombuffer(bytes(np.asarray(buf.data, np.uint8)),
                             self.dtype(t)).reshape(self.shape(t))

    def value(self, t: int, values: dict) -> np.ndarray:
        c = self.const(t)
        if c is not None:
            return np.ascontiguousarray(c)
        return np.ascontiguousarray(values[t]).reshape(self.shape(t))


def _window(in_shape, out_shape, kh, kw, sh, sw, dh, dw, padding) -> Window:
    n, h, w = in_shape[0], in_shape[1], in_shape[2]
    oh, ow = out_shape[1], out_shape[2]
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == 0:  # SAME
        pt = max(0, (oh - 1) * sh + ekh - h) // 2
        pl = max(0, (ow - 1) * sw + ekw - w) // 2
    else:
        pt = pl = 0
    return Window(n, h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl)


def _broadcast(shape_a, shape_b, shape_out) -> Broadcast:
    def four(s):
        s = tuple(s)
        return (1,) * (4 - len(s)) + s

    a, b, o = four(shape_a), four(shape_b), four(shape_out)

    def strides(s):
        st, acc = [0] * 4, 1
        for k in range(3, -1, -1):
            st[k] = 0 if s[k] == 1 and o[k] != 1 else acc
            acc *= s[k]
        return st

    return Broadcast((I32 * 4)(*o), (I32 * 4)(*strides(a)), (I32 * 4)(*strides(b)))


def _bconv_options(model: Model, op) -> dict:
    from flatbuffers import flexbuffers
    return dict(flexbuffers.Loads(bytes(np.asarray(op.customOptions, np.uint8))))


# --------------------------------------------------------------------------------------
# One operator through the C kernel
# --------------------------------------------------------------------------------------
def run_op(rt: Runtime, model: Model, i: int, values: dict, *, bconv_kernel: str = "default"):
    """Runs op ``i`` of ``model`` with the C runtime on the oracle's inputs ``values``.

    Returns (c_output, info) where info names the kernel and the configuration. Raises
    NotImplementedError for ops/configurations the harness does not map."""
    op = model.ops[i]
    name = model.op_name(i)
    ins, outs = list(op.inputs), list(op.outputs)
    o = outs[0]
    oshape = model.shape(o)
    odt = model.dtype(o)
    out = np.zeros(oshape, odt)
    info = name
    st = None
    x = model.value(ins[0], values) if ins and ins[0] >= 0 else None

    if name == "LceQuantize":
        rows = int(np.prod(x.shape[:-1]))
        ch = x.shape[-1]
        if x.dtype == np.float32:
            st = rt.call("quantize_f32", QuantizeParams(rows, ch, 0), x, out)
            info += "/f32"
        elif x.dtype == np.int8:
            st = rt.call("quantize_s8", QuantizeParams(rows, ch, model.sq(ins[0])[1]), x, out)
            info += "/s8"
        else:
            xb = x.astype(np.uint8)
            st = rt.call("quantize_bool", QuantizeParams(rows, ch, 0), xb, out)
            info += "/bool"
    elif name == "LceDequantize":
        rows = int(np.prod(oshape[:-1]))
        ch = oshape[-1]
        if odt == np.float32:
            st = rt.call("dequantize_f32", DequantizeParams(rows, ch, 0.0, 0), x, out)
        else:
            s, z = model.sq(o)
            st = rt.call("dequantize_s8", DequantizeParams(rows, ch, s, z), x, out)
        info += "/" + np.dtype(odt).name
    elif name == "LceBconv2d":
        opts = _bconv_options(model, op)
        f = model.value(ins[1], values)
        cout, kh, kw, words_g = f.shape
        cin = opts["channels_in"]
        groups = BNN_WORDS(cin) // words_g
        cg = cin // groups
        k = kh * kw * cg
        win = _window(x.shape, oshape, kh, kw, opts["stride_height"], opts["stride_width"],
                      opts["dilation_height_factor"], opts["dilation_width_factor"],
                      opts["padding"])
        same_zero = opts["padding"] == 0 and opts["pad_values"] == 0
        keep = []
        if odt == np.int32:
            out_type = OUT_PACKED
            thr = np.ascontiguousarray(model.value(ins[4], values), np.int32)
            keep.append(thr)
            mul_p = bias_p = None
            thr_p = _ptr(thr)
            cmin, cmax = 0, 2 * k
        else:
            pam = model.value(ins[2], values).astype(np.float64)
            pab = model.value(ins[3], values).astype(np.float64)
            if odt == np.int8:
                out_type = OUT_S8
                s, z = model.sq(o)
            else:
                out_type = OUT_F32
                s, z = 1.0, 0
            s = float(np.float32(s))
            # §6.5: in double, rounded once to float.
            mul = (-pam / s).astype(np.float32)
            bias = ((pab + float(k) * pam) / s + float(z)).astype(np.float32)
            keep += [mul, bias]
            mul_p, bias_p, thr_p = _ptr(mul), _ptr(bias), None
            act = opts["fused_activation_function"]
            nmin, nmax = {0: (-2**31, 2**31 - 1), 1: (0, 2**31 - 1), 2: (-1, 1),
                          3: (0, 6)}.get(act, (-2**31, 2**31 - 1))
            nmin, nmax = max(nmin, -k), min(nmax, k)
            cmin, cmax = k - nmax, k - nmin
        if not same_zero:
            pad_mode = BPAD_ONE
        elif out_type == OUT_F32 and bconv_kernel != "reference":
            pad_mode = BPAD_ZERO_FLOAT
        else:
            pad_mode = BPAD_ZERO_INT
        p = BconvParams(win, cin, cout, groups, pad_mode, out_type, cmin, cmax,
                        mul_p, bias_p, thr_p)
        f = np.ascontiguousarray(f)
        st = rt.call("bconv2d", p, x, f, out, None)
        info += f"/{['f32', 's8', 'packed'][out_type]}/pad{['one', 'zero_int', 'zero_float'][pad_mode]}"
        info += f"/cin{cin}/cout{cout}/k{kh}x{kw}/s{win.stride_h}/d{win.dilation_h}/g{groups}"
    elif name == "LceBMaxPool2d":
        opts = _bconv_options(model, op)
        win = _window(x.shape, oshape, opts["filter_height"], opts["filter_width"],
                      opts["stride_height"], opts["stride_width"], 1, 1, opts["padding"])
        ch = 32 * x.shape[-1]  # any channel count with this many words
        st = rt.call("bmaxpool2d", BmaxpoolParams(win, ch), x, out)
    elif name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        bo = op.builtinOptions
        f = model.value(ins[1], values)
        b = model.value(ins[2], values) if len(ins) > 2 and ins[2] >= 0 else None
        kh, kw = f.shape[1], f.shape[2]
        win = _window(x.shape, oshape, kh, kw, bo.strideH, bo.strideW, bo.dilationHFactor,
                      bo.dilationWFactor, bo.padding)
        dw = name == "DEPTHWISE_CONV_2D"
        if x.dtype == np.float32:
            lo, hi = _act_f32(bo.fusedActivationFunction)
            if dw:
                p = DwF32Params(win, x.shape[3], oshape[3] // x.shape[3], lo, hi)
                st = rt.call("depthwise_conv2d_f32", p, x, f, b, out)
            else:
                groups = x.shape[3] // f.shape[3]
                p = ConvF32Params(win, x.shape[3], oshape[3], groups, lo, hi)
                st = rt.call("conv2d_f32", p, x, f, b, out)
            info += "/f32"
        else:
            si, zi = model.sq(ins[0])
            so, zo = model.sq(o)
            fs, _ = model.quant(ins[1])
            cout = oshape[3]
            fs = np.broadcast_to(fs, (cout,))
            mults = [quantize_multiplier(float(si) * float(fsc) / float(so)) for fsc in fs]
            m = np.array([a for a, _ in mults], np.int32)
            sh = np.array([b_ for _, b_ in mults], np.int32)
            lo, hi = _act_s8(bo.fusedActivationFunction, so, zo)
            if dw:
                p = DwS8Params(win, x.shape[3], cout // x.shape[3], -zi, zo, _ptr(m), _ptr(sh),
                               lo, hi, ROUND_UP)
                st = rt.call("depthwise_conv2d_s8", p, x, f, b, out)
            else:
                groups = x.shape[3] // f.shape[3]
                p = ConvS8Params(win, x.shape[3], cout, groups, -zi, zo, _ptr(m), _ptr(sh),
                                 lo, hi, ROUND_UP)
                st = rt.call("conv2d_s8", p, x, f, b, out)
            info += "/s8"
    elif name == "FULLY_CONNECTED":
        bo = op.builtinOptions
        f = model.value(ins[1], values)
        b = model.value(ins[2], values) if len(ins) > 2 and ins[2] >= 0 else None
        nin = f.shape[1]
        rows = x.size // nin
        if x.dtype == np.float32:
            lo, hi = _act_f32(bo.fusedActivationFunction)
            st = rt.call("fully_connected_f32", FcF32Params(rows, nin, f.shape[0], lo, hi),
                         x, f, b, out)
            info += "/f32"
        else:
            si, zi = model.sq(ins[0])
            so, zo = model.sq(o)
            fs, fz = model.quant(ins[1])
            per_channel = len(fs) > 1
            mults = [quantize_multiplier(float(si) * float(fsc) / float(so)) for fsc in fs]
            m = np.array([a for a, _ in mults], np.int32)
            sh = np.array([b_ for _, b_ in mults], np.int32)
            lo, hi = _act_s8(bo.fusedActivationFunction, so, zo)
            p = FcS8Params(rows, nin, f.shape[0], -zi, -int(fz[0]), zo, int(per_channel),
                           _ptr(m), _ptr(sh), lo, hi, ROUND_UP)
            st = rt.call("fully_connected_s8", p, x, f, b, out)
            info += "/s8"
    elif name in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
        bo = op.builtinOptions
        win = _window(x.shape, oshape, bo.filterHeight, bo.filterWidth, bo.strideH, bo.strideW,
                      1, 1, bo.padding)
        kind = "max_pool2d" if name == "MAX_POOL_2D" else "avg_pool2d"
        if x.dtype == np.float32:
            lo, hi = _act_f32(bo.fusedActivationFunction)
            st = rt.call(kind + "_f32", PoolF32Params(win, x.shape[3], lo, hi), x, out)
            info += "/f32"
        else:
            lo, hi = _act_s8(bo.fusedActivationFunction, *model.sq(o))
            st = rt.call(kind + "_s8", PoolS8Params(win, x.shape[3], lo, hi), x, out)
            info += "/s8"
    elif name == "MEAN":
        axes = sorted(int(a) for a in model.value(ins[1], values).ravel())
        if axes != [1, 2] or x.ndim != 4:
            raise NotImplementedError(f"MEAN over axes {axes}")
        n, h, w, c = x.shape
        if x.dtype == np.float32:
            st = rt.call("mean_f32", MeanF32Params(n, h, w, c), x, out)
            info += "/f32"
        else:
            si, zi = model.sq(ins[0])
            so, zo = model.sq(o)
            if op.builtinOptions.keepDims:
                raise NotImplementedError("int8 MEAN keep_dims=True")
            mode = 0 if (si == so and zi == zo) else 1
            scale = float(np.float32(si) / np.float32(so))
            st = rt.call("mean_s8", MeanS8Params(n, h, w, c, mode, zi, zo, scale), x, out)
            info += f"/s8/mode{mode}"
    elif name in ("ADD", "SUB", "MUL"):
        y = model.value(ins[1], values)
        bc = _broadcast(x.shape, y.shape, oshape)
        act = op.builtinOptions.fusedActivationFunction if op.builtinOptions else 0
        low = name.lower()
        if x.dtype == np.float32:
            lo, hi = _act_f32(act)
            st = rt.call(low + "_f32", BinaryF32Params(bc, lo, hi), x, y, out)
            info += "/f32"
        else:
            s1, z1 = model.sq(ins[0])
            s2, z2 = model.sq(ins[1])
            so, zo = model.sq(o)
            lo, hi = _act_s8(act, so, zo)
            if name == "MUL":
                real = float(np.float32(np.float32(s1) * np.float32(s2)) / np.float32(so))
                m, sh = quantize_multiplier(real)
                st = rt.call("mul_s8", MulS8Params(bc, -z1, -z2, m, sh, zo, lo, hi), x, y, out)
            else:
                ls = 20
                twice = 2.0 * max(s1, s2)
                m1, sh1 = quantize_multiplier(s1 / twice)
                m2, sh2 = quantize_multiplier(s2 / twice)
                mo, sho = quantize_multiplier(twice / float(np.float32((1 << ls) * np.float32(so))))
                p = AddS8Params(bc, ls, -z1, m1, sh1, -z2, m2, sh2, mo, sho, zo, lo, hi)
                st = rt.call(low + "_s8", p, x, y, out)
            info += "/s8"
    elif name == "RESHAPE":
        st = rt.lib.bnn_copy(_ptr(out), _ptr(x), C.c_size_t(out.nbytes))
    elif name in ("PAD", "PADV2"):
        pads = model.value(ins[1], values).reshape(-1, 2)
        r = x.ndim
        four_in = (1,) * (4 - r) + x.shape
        before = [0] * (4 - r) + [int(a) for a in pads[:, 0]]
        after = [0] * (4 - r) + [int(a) for a in pads[:, 1]]
        p = PadParams((I32 * 4)(*four_in), (I32 * 4)(*before), (I32 * 4)(*after))
        if x.dtype == np.float32:
            pv = float(model.value(ins[2], values).ravel()[0]) if name == "PADV2" else 0.0
            st = rt.lib.bnn_pad_f32(C.byref(p), C.c_float(pv), _ptr(x), _ptr(out))
        else:
            pv = int(model.value(ins[2], values).ravel()[0]) if name == "PADV2" else model.sq(o)[1]
            st = rt.lib.bnn_pad_s8(C.byref(p), C.c_int8(pv), _ptr(x), _ptr(out))
        info += "/" + np.dtype(odt).name
    elif name == "CONCATENATION":
        axis = op.builtinOptions.axis
        axis = axis % len(oshape)
        arrays = [model.value(t, values) for t in ins]
        outer = int(np.prod(oshape[:axis]))
        inner = np.array([a.nbytes // outer for a in arrays], np.int32)
        ptrs = (P * len(arrays))(*[a.ctypes.data for a in arrays])
        p = ConcatParams(len(arrays), outer, _ptr(inner))
        st = rt.lib.bnn_concatenation(C.byref(p), ptrs, _ptr(out))
        info += f"/axis{axis}/" + np.dtype(odt).name
    elif name == "SOFTMAX":
        beta = op.builtinOptions.beta
        rows, depth = x.size // x.shape[-1], x.shape[-1]
        if x.dtype == np.float32:
            st = rt.call("softmax_f32", SoftmaxF32Params(rows, depth, beta), x, out)
            info += "/f32"
        else:
            si, _ = model.sq(ins[0])
            so, zo = model.sq(o)
            table = np.zeros(256, np.float32)
            rt.lib.bnn_softmax_s8_fill_table(_ptr(table), C.c_float(si), C.c_float(beta))
            st = rt.call("softmax_s8", SoftmaxS8Params(rows, depth, so, zo, _ptr(table)), x, out)
            info += "/s8"
    elif name == "QUANTIZE":
        s, z = model.sq(o)
        if x.dtype == np.float32:
            st = rt.call("affine_quantize_s8", AffineParams(x.size, s, z), x, out)
            info += "/f32->s8"
        else:
            si, zi = model.sq(ins[0])
            m, sh = quantize_multiplier(float(si) / float(s))
            st = rt.call("requantize_s8", RequantParams(x.size, zi, z, m, sh, -128, 127), x, out)
            info += "/s8->s8"
    elif name == "DEQUANTIZE":
        s, z = model.sq(ins[0])
        st = rt.call("affine_dequantize_s8", AffineParams(x.size, s, z), x, out)
    elif name in ("RELU", "RELU6", "RELU_N1_TO_1"):
        code = {"RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}[name]
        if x.dtype == np.float32:
            lo, hi = _act_f32(code)
            st = rt.call("clamp_f32", ClampF32Params(x.size, lo, hi), x, out)
            info += "/f32"
        else:
            si, zi = model.sq(ins[0])
            so, zo = model.sq(o)
            m, sh = quantize_multiplier(float(np.float32(si) / np.float32(so)))
            lo, hi = _act_s8(code, so, zo)
            st = rt.call("requantize_s8", RequantParams(x.size, zi, zo, m, sh, lo, hi), x, out)
            info += "/s8"
    elif name == "LEAKY_RELU":
        alpha = op.builtinOptions.alpha
        if x.dtype == np.float32:
            st = rt.call("leaky_relu_f32", LeakyF32Params(x.size, alpha), x, out)
            info += "/f32"
        else:
            si, zi = model.sq(ins[0])
            so, zo = model.sq(o)
            ma, sa = quantize_multiplier(float(np.float32(np.float32(si) * np.float32(alpha))
                                               / np.float32(so)))
            mi, smi = quantize_multiplier(float(np.float32(si) / np.float32(so)))
            st = rt.call("leaky_relu_s8", LeakyS8Params(x.size, zi, zo, mi, smi, ma, sa), x, out)
            info += "/s8"
    elif name == "PRELU":
        alpha = model.value(ins[1], values)
        bc = _broadcast(x.shape, alpha.shape, oshape)
        if x.dtype == np.float32:
            st = rt.call("prelu_f32", BinaryF32Params(bc, 0.0, 0.0), x, alpha, out)
            info += "/f32"
        else:
            si, zi = model.sq(ins[0])
            sa, za = model.sq(ins[1])
            so, zo = model.sq(o)
            m1, s1 = quantize_multiplier(float(np.float32(si) / np.float32(so)))
            m2, s2 = quantize_multiplier(float(np.float32(np.float32(si) * np.float32(sa))
                                               / np.float32(so)))
            st = rt.call("prelu_s8", PreluS8Params(bc, -zi, -za, zo, m1, s1, m2, s2), x, alpha,
                         out)
            info += "/s8"
    elif name in ("LOGISTIC", "TANH") and x.dtype == np.float32:
        st = rt.call(name.lower() + "_f32", ClampF32Params(x.size, 0.0, 0.0), x, out)
    else:
        raise NotImplementedError(f"op {i} {name} ({np.dtype(x.dtype).name if x is not None else '-'})")
    if st != 0:
        raise RuntimeError(f"op {i} {info}: status {st}: {rt.log()}")
    return out, info


def BNN_WORDS(c: int) -> int:
    return (c + 31) // 32
