"""Training curves with dvclive, on the Trainer's true global step and with no timing keys.

transformers' ``DVCLiveCallback`` advances its own step counter once per log call (0-14 for a
113-step run) and logs runtime, samples/steps per second and FLOs, so ``plots/train`` changed on
every identical rerun. This callback logs only quality curves, at ``state.global_step``.
"""

from __future__ import annotations

import csv
from pathlib import Path

from transformers import TrainerCallback

# Trainer log key -> dvclive metric name (file plots/metrics/<name>.tsv under the live folder).
CURVES = {
    "loss": "train/loss",
    "learning_rate": "train/learning_rate",
    "eval_loss": "eval/loss",
    "eval_accuracy": "eval/accuracy",
}


class LiveCurves(TrainerCallback):
    """Log CURVES to a dvclive folder at the global step; nothing else (no timings, no params)."""

    def __init__(self, live_dir: str | Path, resume: bool = False):
        from dvclive import Live

        self.live = Live(str(live_dir), resume=resume, dvcyaml=None, save_dvc_exp=False)
        self.resume = resume

    def on_train_begin(self, args, state, control, **kwargs):
        if self.resume:  # a resumed run re-logs the steps after its checkpoint: drop the stale rows
            drop_rows_after(Path(self.live.plots_dir) / "metrics", state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        logged = False
        for key, name in CURVES.items():
            if key in logs:
                self.live.step = state.global_step
                self.live.log_metric(name, float(logs[key]))
                logged = True
        if logged:
            self.live.make_summary()

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.live.end()


def drop_rows_after(metrics_dir: Path, step: int) -> None:
    """Remove rows with step > ``step`` from every dvclive TSV under ``metrics_dir``."""
    for path in metrics_dir.rglob("*.tsv"):
        with open(path, newline="") as f:
            rows = list(csv.reader(f, delimiter="\t"))
        kept = [rows[0]] + [r for r in rows[1:] if int(r[0]) <= step]
        with open(path, "w", newline="") as f:
            csv.writer(f, delimiter="\t", lineterminator="\n").writerows(kept)
