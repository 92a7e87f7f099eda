"""Trainer callbacks for whole-run figures: train seconds, mean loss and curves that survive a resume.

Trainer's own ``train_runtime`` and ``training_loss`` cover only the part of a run since the last
resume, and DVC deletes the curve files before a stage reruns; these callbacks keep what they need in
the checkpoints (or read it back from the checkpoint's log history), so the train stage reports the
whole run whether or not it was interrupted.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from transformers import TrainerCallback


class RunTotals(TrainerCallback):
    """Whole-run figures that survive a resume (pass one to the Trainer, read :meth:`summary` after).

    Trainer's own ``train_runtime`` and ``training_loss`` cover only the part of a run since the last
    resume. This callback stores the train seconds so far in every checkpoint it saves
    (``checkpoint-N/run_totals.json``), adds them back when a run resumes from that checkpoint, and
    makes Trainer log the loss at the last step so the log history (saved in checkpoints too) covers
    every step.
    """

    FILE = "run_totals.json"

    def __init__(self):
        self.start = time.perf_counter()
        self.prior_seconds, self.end, self.resumed_from_step, self._synced = 0.0, None, 0, False

    def _sync(self, args, state) -> None:
        """Once the checkpoint's state is loaded (after on_train_begin), pick up its totals."""
        if self._synced:
            return
        self._synced, self.resumed_from_step = True, state.global_step
        saved = Path(args.output_dir) / f"checkpoint-{state.global_step}" / self.FILE
        if state.global_step and saved.is_file():
            self.prior_seconds = float(json.loads(saved.read_text())["train_seconds"])

    def seconds(self) -> float:
        return self.prior_seconds + ((self.end or time.perf_counter()) - self.start)

    def on_train_begin(self, args, state, control, **kwargs):
        self.start, self.end, self._synced = time.perf_counter(), None, False

    def on_epoch_begin(self, args, state, control, **kwargs):
        self._sync(args, state)

    def on_step_end(self, args, state, control, **kwargs):
        self._sync(args, state)
        if state.global_step >= state.max_steps:
            control.should_log = True  # the last interval's loss reaches the log history too

    def on_save(self, args, state, control, **kwargs):
        self._sync(args, state)
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if state.is_world_process_zero and folder.is_dir():
            (folder / self.FILE).write_text(json.dumps({"train_seconds": self.seconds()}) + "\n")

    def on_train_end(self, args, state, control, **kwargs):
        self._sync(args, state)
        self.end = time.perf_counter()

    def summary(self, state, train_examples: int) -> dict:
        """Train seconds, steps, examples seen and per second, mean train loss: all over the whole run."""
        seconds = self.seconds()
        seen = round(train_examples * (state.epoch or 0))
        return {
            "train_seconds": round(seconds, 2),
            "steps": state.global_step,
            "examples_seen": seen,
            "examples_per_second": round(seen / seconds, 2) if seconds > 0 else 0.0,
            "final_train_loss": round(mean_train_loss(state.log_history), 4),
            "resumed_from_step": self.resumed_from_step,
        }


def mean_train_loss(log_history: list[dict]) -> float:
    """Mean training loss over every logged step (each logged value is the mean of its interval)."""
    total = steps = 0.0
    last = 0
    for entry in sorted((h for h in log_history if "loss" in h and "step" in h), key=lambda h: h["step"]):
        width = entry["step"] - last
        if width > 0:
            total, steps, last = total + entry["loss"] * width, steps + width, entry["step"]
    return total / steps if steps else float("nan")


CURVE_SKIP = ("runtime", "per_second", "flos", "train_loss")  # cost numbers change on every rerun


def live_curves(live_dir: str | Path):
    """A DVCLive callback whose curves cover the whole run and change only when the run does.

    Each value is logged at its optimizer step (not at the n-th log call); after a resume the log
    history restored from the checkpoint is replayed first, so the curves also hold the steps before the
    interruption (DVC removes the old curve files before the stage reruns). Timing and FLOP counts are
    left out: they differ on every rerun of an identical run.
    """
    from dvclive import Live
    from transformers.integrations import DVCLiveCallback

    class LiveCurves(DVCLiveCallback):
        def __init__(self):
            super().__init__(live=Live(str(live_dir), dvcyaml=None, save_dvc_exp=False), log_model=False)
            self.logged_step = -1

        def _log(self, step: int, logs: dict) -> None:
            from dvclive.utils import standardize_metric_name

            values = {
                k: v
                for k, v in logs.items()
                if k != "step" and isinstance(v, (int, float)) and not any(s in k for s in CURVE_SKIP)
            }
            if not values:
                return
            self.live.step = step
            for key, value in values.items():
                self.live.log_metric(standardize_metric_name(key, "dvclive.huggingface"), value)
            self.live.next_step()
            self.logged_step = step

        def _replay(self, state) -> None:
            if self.logged_step < 0:
                self.logged_step = 0
                for entry in state.log_history:  # restored from the checkpoint on a resume
                    if "step" in entry and entry["step"] <= state.global_step:
                        self._log(entry["step"], entry)

        def on_epoch_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self._replay(state)

        def on_log(self, args, state, control, model=None, logs=None, **kwargs):
            if state.is_world_process_zero:
                self._replay(state)
                self._log(state.global_step, logs or {})

        def on_train_end(self, args, state, control, **kwargs):
            # The folder is a stage's `plots:` output, and DVC renders every file in it as a plot. dvclive's summary
            # (metrics.json: metrics/train.json's job) and Trainer arguments (params.yaml: params.yaml's) are not
            # curves, so only the curves stay.
            super().on_train_end(args, state, control, **kwargs)
            if state.is_world_process_zero:
                for name in ("metrics.json", "params.yaml"):
                    (Path(self.live.dir) / name).unlink(missing_ok=True)

    return LiveCurves()


class ReleaseFreedMemory(TrainerCallback):
    """Hand freed heap memory back to the OS after every optimizer step, validation and checkpoint (glibc's
    malloc_trim).

    glibc keeps freed blocks resident, and each batch length frees blocks of other sizes, so the heap keeps
    growing while the live set between steps stays small. Trimming after every step lowers the peak with the
    adapter byte-identical, at a small cost per step (the next step faults the released pages back in); trimming
    between micro-batches too costs more than it saves. Measurements: bench/results/README.md."""

    def __init__(self):
        import ctypes
        import ctypes.util

        libc = ctypes.util.find_library("c")
        self.trim = getattr(ctypes.CDLL(libc), "malloc_trim", None) if libc else None  # glibc only

    def _release(self) -> None:
        if self.trim is not None:
            self.trim(0)

    def on_step_end(self, args, state, control, **kwargs):
        self._release()

    def on_evaluate(self, args, state, control, **kwargs):
        self._release()

    def on_save(self, args, state, control, **kwargs):
        self._release()
