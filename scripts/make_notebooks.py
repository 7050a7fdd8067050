"""Writes the tutorial notebooks in notebooks/ (without outputs). Run it after editing
the cells below; the tests execute the notebooks top to bottom."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent.parent / "notebooks"

SETUP = """import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import bnn_lq  # sets TF_USE_LEGACY_KERAS=1 before TensorFlow loads
import logging, tempfile, pathlib
logging.basicConfig(level=logging.WARNING)
# Small settings so the notebook runs in a minute; raise them for real work.
EPOCHS = int(os.environ.get("BNN_LQ_NB_EPOCHS", "2"))
WORK = pathlib.Path(os.environ.get("BNN_LQ_NB_DIR", tempfile.mkdtemp(prefix="bnn-lq-nb-")))
print("working in", WORK)"""

NB1 = [
    new_markdown_cell("""# 1. Build and train a binarized network

A binarized neural network (BNN) keeps weights and activations at ±1, so a
multiply-accumulate becomes XNOR + popcount and a weight takes one bit. This notebook
builds the fully connected BNN of Courbariaux & Hubara (2016) with bnn-lq's
`BinaryDense` layers, trains it, looks at the binarized weights, and prints the memory
report that says whether it fits a microcontroller."""),
    new_code_cell(SETUP),
    new_markdown_cell("""## Data
`bnn_lq.data.load` returns NHWC images scaled to [-1, 1]. scikit-learn's 8x8 digits ship
with the package, so this runs offline; `fashion_mnist` reads Debian's
`dataset-fashion-mnist`."""),
    new_code_cell("""from bnn_lq import data
(x_train, y_train), (x_test, y_test) = data.load("digits", "train"), data.load("digits", "test")
print(x_train.shape, x_train.min(), x_train.max(), "classes:", data.num_classes("digits"))"""),
    new_markdown_cell("""## The model
`BinaryDense` is a binary kernel (and a binary input unless `is_binarized_activation=False`)
followed by batch normalization: the interface of the classic TF2 BNN code. The first layer
sees real pixels, so its input is not binarized."""),
    new_code_cell("""import tensorflow as tf
from bnn_lq.layers import BinaryDense

model = tf.keras.Sequential([
    tf.keras.layers.Flatten(input_shape=x_train.shape[1:]),
    BinaryDense(128, is_binarized_activation=False, name="fc1"),
    BinaryDense(64, name="fc2"),
    BinaryDense(10, name="fc3"),
    tf.keras.layers.Activation("softmax"),
], name="digits_bnn")
model.summary()"""),
    new_markdown_cell("""## Training
`bnn_lq.train.fit` uses Larq's Bop for the binary kernels and Adam for the rest
(`optimizer="bop"`), or Adam everywhere. The run directory holds `model.keras`,
`history.csv`, checkpoints (a killed run resumes) and plots."""),
    new_code_cell("""from bnn_lq import train
run = train.fit(model, ((x_train, y_train), (x_test, y_test)), optimizer="adam",
                learning_rate=1e-2, epochs=EPOCHS, batch_size=64, out_dir=WORK / "nb1_run",
                overwrite=True)
print(f"test accuracy after {len(run.history)} epochs: {run.test_accuracy:.3f}")
print(sorted(p.name for p in (WORK / "nb1_run").iterdir()))"""),
    new_code_cell("""from IPython.display import Image, display
for name in ("training_curves", "confusion_matrix", "sample_predictions"):
    display(Image(filename=str(WORK / "nb1_run" / "plots" / f"{name}.png")))"""),
    new_markdown_cell("""## The binarized weights
Training keeps real-valued *latent* weights (clipped to [-1, 1]); inference uses only their
signs. `get_binarized_weights()` returns exactly what the device will use, as int8 ±1."""),
    new_code_cell("""import numpy as np
fc2 = run.model.get_layer("fc2")
w_bin = fc2.get_binarized_weights()
print(w_bin.dtype, w_bin.shape, "values:", np.unique(w_bin))
print("fraction of +1:", float((w_bin == 1).mean()))"""),
    new_markdown_cell("""## Memory report
Larq's summary, then the microcontroller budget: bit-packed binary weights, real
parameters in float32 and int8, peak activation memory and binary vs real MACs, checked
against a board."""),
    new_code_cell("""from bnn_lq import budget
print(budget.summary(run.model, board="netduinoplus2"))"""),
    new_code_cell("""b = budget.budget(run.model)
assert b.binary_weight_bytes < b.real_float32_bytes + 1, "binary weights are bit-packed"
print(f"binary weights: {b.binary_weight_bytes} B packed; real params: {b.real_params}")"""),
]

NB2 = [
    new_markdown_cell("""# 2. Convert, inspect, and run the model everywhere

Larq Compute Engine (LCE) converts a Larq model to a `.tflite` with its custom binary ops.
Stock LCE 0.16 stores a binary dense layer as float ±1 weights; `bnn_lq.convert.to_tflite`
bit-packs it. Then the same file runs in LCE's interpreter, in bnn-lq's NumPy interpreter
(no TensorFlow needed) and in bnn-lq's C runtime, and they agree."""),
    new_code_cell(SETUP),
    new_code_cell("""from bnn_lq import data, train, zoo
(x_train, y_train), (x_test, y_test) = data.load("digits", "train"), data.load("digits", "test")
model = zoo.get("bnn_mlp", input_shape=x_train.shape[1:], num_classes=10, hidden=(256, 256))
run = train.fit(model, ((x_train, y_train), (x_test, y_test)), optimizer="adam",
                learning_rate=1e-2, epochs=EPOCHS, batch_size=64, out_dir=WORK / "nb2_run",
                overwrite=True)
print(f"Keras test accuracy: {run.test_accuracy:.3f}")"""),
    new_markdown_cell("""## Convert: stock LCE vs bnn-lq
Both go through `larq_compute_engine.convert_keras_model`; bnn-lq rewrites each binary
dense layer as a 1x1 binary convolution first, which LCE bit-packs."""),
    new_code_cell("""from bnn_lq.convert import lce, read, inspect, format_inspection
ours = lce.to_tflite(run.model)
stock = lce.stock_tflite(run.model)
(WORK / "model.tflite").write_bytes(ours)
print(f"stock LCE: {len(stock):,} B   bnn-lq: {len(ours):,} B   "
      f"({len(stock) / len(ours):.1f}x smaller); ideal {lce.ideal_bytes(run.model):,} B")"""),
    new_markdown_cell("""## Inspect
Which operators were bit-packed, where the bytes go, binary vs real MACs, and the
peak activation memory of a straightforward schedule."""),
    new_code_cell("""graph = read(WORK / "model.tflite")
print(format_inspection(inspect(graph)))
print("stock LCE, for comparison:")
print(format_inspection(inspect(read(stock))))"""),
    new_markdown_cell("""## Run it everywhere
`bnn_lq.evaluate` runs the same test images through each runtime and compares their
argmax. `c-host` generates C from the `.tflite`, compiles it with the bnn-lq runtime and
runs it on this machine."""),
    new_code_cell("""import bnn_lq.c_runtime  # registers the c-host runtime
from bnn_lq import evaluate
result = evaluate.evaluate(WORK / "model.tflite", (x_test, y_test),
                           runtimes=["keras", "lce", "numpy", "c-host"],
                           keras_model=run.model)
print(result.table())
assert all(v == 1.0 for v in result.agreement.values()), "every runtime agrees"
"""),
    new_markdown_cell("""`tflite_runtime` cannot run this file ("Encountered unresolved custom op"): LCE's
ops are not TFLite builtins. The NumPy interpreter needs only NumPy, so it also runs on
an ARM board or a Python for which LCE has no wheel."""),
]

NB3 = [
    new_markdown_cell("""# 3. On the microcontroller: firmware, emulated Cortex-M4, real board

`bnn-lq deploy` generates C from the `.tflite` (weights bit-packed in flash, one static
arena planned ahead), compiles it with the accuracy-check application for a board, and
runs it. Here the board is the reference `netduinoplus2` (STM32F405, Cortex-M4F),
emulated by QEMU; the firmware embeds test images, their labels and LCE's predictions,
and reports accuracy, agreement with LCE, instructions per inference, flash and RAM."""),
    new_code_cell(SETUP),
    new_code_cell("""from bnn_lq import data, train, zoo
from bnn_lq.convert import lce
(x_train, y_train), (x_test, y_test) = data.load("digits", "train"), data.load("digits", "test")
model = zoo.get("bnn_cnn_small", input_shape=x_train.shape[1:], num_classes=10)
run = train.fit(model, ((x_train, y_train), (x_test, y_test)), optimizer="adam",
                learning_rate=1e-2, epochs=EPOCHS, batch_size=64, out_dir=WORK / "nb3_run",
                overwrite=True)
tflite_path = WORK / "model.tflite"
tflite_path.write_bytes(lce.to_tflite(run.model))
print(f"Keras test accuracy {run.test_accuracy:.3f}; model {tflite_path.stat().st_size:,} B")"""),
    new_markdown_cell("""## Build the firmware
The test set travels with the firmware: images, labels and the class LCE's interpreter
predicted for each. Flash and RAM are checked against the board before compiling."""),
    new_code_cell("""from bnn_lq import deploy
from larq_compute_engine.tflite.python.interpreter import Interpreter as LceInterpreter
import numpy as np
n = 64
images, labels = x_test[:n], y_test[:n]
oracle = LceInterpreter(tflite_path.read_bytes()).predict(images).argmax(-1)
built = deploy.build(tflite_path, board="netduinoplus2", out_dir=WORK / "fw_m4",
                     testset=(images.astype(np.float32), labels, oracle))
print(f"flash (text+data): {built.text_bytes + built.data_bytes:,} B, "
      f"RAM (data+bss): {built.data_bytes + built.bss_bytes:,} B, {built.images} images")"""),
    new_markdown_cell("""## Run it on the emulated Cortex-M4
QEMU runs with `-icount shift=0`, so SysTick ticks convert exactly to instructions.
The last line the firmware prints is machine-readable (`BNN RESULT {...}`)."""),
    new_code_cell("""result = deploy.run(WORK / "fw_m4")
print(result.output[-600:])
print(f"device accuracy {result.accuracy:.3f}, agreement with LCE {result.agreement:.3f}, "
      f"{result.per_inference:,} {result.unit} per inference")
assert result.matches_oracle, "the device classifies exactly as LCE does"
"""),
    new_markdown_cell("""## Flash a real board
With a probe attached (ST-LINK or CMSIS-DAP on the Netduino's SWD pads) build with
`io="uart"` so the report goes to USART1 (PA9, 115200 baud) instead of semihosting, then
flash with pyocd. The STM32F405 needs its CMSIS pack once (network):

```sh
pyocd pack install stm32f405rg
bnn-lq deploy build model.tflite --board netduinoplus2 --testset fashion_mnist:256 --io uart -o fw
bnn-lq deploy flash fw --probe pyocd
```

On real hardware the per-inference figure is in cycles (DWT cycle counter). Without a
probe, pyocd says so:"""),
    new_code_cell("""from bnn_lq.errors import DeployError
try:
    deploy.flash(WORK / "fw_m4", probe="pyocd", timeout=60)
except DeployError as exc:
    print(exc)"""),
]


def main() -> None:
    HERE.mkdir(exist_ok=True)
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    for name, cells in (("01_train_binary_network.ipynb", NB1),
                        ("02_convert_inspect_compare.ipynb", NB2),
                        ("03_firmware_on_cortex_m.ipynb", NB3)):
        nb = new_notebook(cells=cells, metadata=meta)
        nbformat.write(nb, HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
