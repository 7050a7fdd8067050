"""`bnn-lq pipeline` end to end on small settings: every runtime agrees, unchanged
stages are skipped, and a failed stage resumes without redoing earlier ones."""

import json

import pytest

from bnn_lq import pipeline, pipeline_steps
from bnn_lq.errors import BnnLqError
from bnn_lq.stages import StageError


def _config(out_dir, **overrides):
    options = dict(model="bnn_cnn_small", dataset="digits", epochs=2, batch_size=64,
                   learning_rate=1e-2, boards=("netduinoplus2",), testset_size=24,
                   eval_limit=120, out_dir=str(out_dir))
    options.update(overrides)
    return pipeline.PipelineConfig(**options)


def test_unknown_board_is_a_usage_error(tmp_path):
    with pytest.raises(BnnLqError, match="unknown board"):
        pipeline.run_pipeline(_config(tmp_path, boards=("arduino-uno",)))


def test_default_dataset_explains_itself():
    name, why = pipeline.default_dataset()
    assert name in ("fashion_mnist", "digits") and name.split("_")[0] in why.lower().replace("-", "_")


@pytest.mark.slow
@pytest.mark.target
def test_pipeline_end_to_end_then_resume_after_failure(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    calls = {"n": 0}
    real_firmware = pipeline_steps.firmware

    def failing_firmware(*args, **kwargs):
        calls["n"] += 1
        raise RuntimeError("simulated compiler crash")

    # First run: the firmware stage fails; everything before it stays in place.
    monkeypatch.setattr(pipeline_steps, "firmware", failing_firmware)
    with pytest.raises(StageError, match="stage 'firmware' failed.*simulated compiler crash"):
        pipeline.run_pipeline(_config(run_dir))
    for produced in ("train/model.keras", "summary.txt", "model.tflite", "evaluate.json"):
        assert (run_dir / produced).exists(), produced
    assert not (run_dir / "stages" / "firmware.json").exists()
    train_record = (run_dir / "stages" / "train.json").stat().st_mtime_ns

    # Second run: resumes at firmware; train/convert/evaluate are not redone.
    monkeypatch.setattr(pipeline_steps, "firmware", real_firmware)
    report = pipeline.run_pipeline(_config(run_dir))
    assert (run_dir / "stages" / "train.json").stat().st_mtime_ns == train_record
    assert report["all_agree"], report["markdown"]
    evaluation = json.loads((run_dir / "evaluate.json").read_text())
    assert set(evaluation["accuracy"]) == {"keras", "lce", "numpy", "c-host"}
    assert len(set(evaluation["accuracy"].values())) == 1, evaluation["accuracy"]
    device = report["device"]["netduinoplus2"]
    assert device["images"] == 24 and device["agree"] == 24
    assert device["unit"] == "instructions" and device["per_inference"] > 0
    text = (run_dir / "report.md").read_text()
    for needle in ("stock LCE", "netduinoplus2", "c-host", "training_curves.png",
                   "confusion_matrix.png", "sample_predictions.png", "every runtime agrees"):
        assert needle in text, needle
    assert json.loads((run_dir / "report.json").read_text())["all_agree"] is True

    # Third run: nothing changed, every stage is skipped.
    runner_stages = []
    real_run = pipeline.StageRunner.run

    def spy(self, name, work, **kwargs):
        result = real_run(self, name, work, **kwargs)
        runner_stages.append((name, name in self.skipped))
        return result

    monkeypatch.setattr(pipeline.StageRunner, "run", spy)
    pipeline.run_pipeline(_config(run_dir))
    assert runner_stages and all(skipped for _, skipped in runner_stages), runner_stages
