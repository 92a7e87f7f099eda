"""Prediction CSVs (nli.labels.PREDICTION_COLUMNS): read, validate and check that two files pair up row by row."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from nli.core.errors import UserError
from nli.core.labels import LABELS, LOGPROB_COLUMNS, PREDICTION_COLUMNS, PROBABILITY_COLUMNS

NUMBER_COLUMNS = (*PROBABILITY_COLUMNS, "confidence")


class CompareInputError(UserError):
    """A prediction file the comparison cannot use; the message names the file, the place and the fix."""

    def __init__(self, path: str | os.PathLike[str], problem: str, fix: str) -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.path}: {problem}. Fix: {fix}")


def load_predictions(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read one prediction CSV and check its columns and values.

    Text is read verbatim (no NA guessing: a hypothesis "None" stays a string).
    Returns a frame with ``correct`` as int and the probabilities as float.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise CompareInputError(path, "file not found", "run the evaluation stage that writes it (dvc repro)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise CompareInputError(
            path, f"not a readable CSV ({err})", "regenerate it with the evaluation stage"
        ) from None

    missing = [col for col in PREDICTION_COLUMNS if col not in frame.columns]
    if missing:
        raise CompareInputError(
            path,
            f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns))}",
            f"write all of {', '.join(PREDICTION_COLUMNS)}",
        )
    if frame.empty:
        raise CompareInputError(path, "has a header but no rows", "regenerate it")

    def fail(row: int, column: str, problem: str, fix: str) -> CompareInputError:
        return CompareInputError(
            path, f"data row {row + 1} (id {frame['id'].iat[row]!r}), column {column!r}: {problem}", fix
        )

    blank = np.flatnonzero(frame["id"].str.strip() == "")
    if blank.size:
        raise fail(int(blank[0]), "id", "empty id", "give every row its example id")
    duplicated = np.flatnonzero(frame["id"].duplicated())
    if duplicated.size:
        raise fail(int(duplicated[0]), "id", "duplicate id", "write each example once")

    for column in ("gold", "predicted"):
        bad = np.flatnonzero(~frame[column].isin(LABELS))
        if bad.size:
            value = frame[column].iat[bad[0]]
            raise fail(
                int(bad[0]),
                column,
                f"label {value!r} is not one of {', '.join(LABELS)}",
                "map labels to these names and drop examples without a gold label",
            )

    bad = np.flatnonzero(~frame["correct"].str.strip().isin(["0", "1"]))
    if bad.size:
        raise fail(int(bad[0]), "correct", f"{frame['correct'].iat[bad[0]]!r} is not 0 or 1", "write 0 or 1")
    frame["correct"] = frame["correct"].astype(int)
    inconsistent = np.flatnonzero(frame["correct"].to_numpy() != (frame["gold"] == frame["predicted"]).to_numpy())
    if inconsistent.size:
        raise fail(
            int(inconsistent[0]),
            "correct",
            "disagrees with gold == predicted",
            "write correct = int(gold == predicted)",
        )

    for column in NUMBER_COLUMNS:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(~values.between(0.0, 1.0).to_numpy())
        if bad.size:
            raise fail(
                int(bad[0]),
                column,
                f"{frame[column].iat[bad[0]]!r} is not a probability in [0, 1]",
                "write the softmax probability as a number",
            )
        frame[column] = values.astype(float)
    for column in LOGPROB_COLUMNS if all(c in frame.columns for c in LOGPROB_COLUMNS) else ():
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(~(values <= 0).to_numpy())  # NaN fails too
        if bad.size:
            raise fail(
                int(bad[0]),
                column,
                f"{frame[column].iat[bad[0]]!r} is not a log-probability (a number <= 0)",
                "write the label token's log-probability or leave out the logprob_* columns",
            )
        frame[column] = values.astype(float)
    return frame


def check_paired(
    baseline: pd.DataFrame,
    finetuned: pd.DataFrame,
    baseline_path: str | os.PathLike[str],
    finetuned_path: str | os.PathLike[str],
) -> None:
    """Raise ``CompareInputError`` unless both files hold the same examples in the same order."""
    fix = "evaluate both models on the same test split, keeping the split's row order"
    if len(baseline) != len(finetuned):
        raise CompareInputError(
            finetuned_path,
            f"has {len(finetuned)} rows but {baseline_path} has {len(baseline)}",
            fix,
        )
    for column in ("id", "gold", "premise", "hypothesis"):
        differ = np.flatnonzero(baseline[column].to_numpy() != finetuned[column].to_numpy())
        if differ.size:
            row = int(differ[0])
            raise CompareInputError(
                finetuned_path,
                f"data row {row + 1}, column {column!r}: {finetuned[column].iat[row]!r} "
                f"but {baseline_path} has {baseline[column].iat[row]!r}",
                fix,
            )


def load_stress(path: str | os.PathLike[str]) -> dict:
    """metrics/stress.json as the stress stage writes it (clean_accuracy, then one group per perturbation)."""
    fix = "run the stress stage that writes it (dvc repro stress)"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CompareInputError(path, "file not found", fix) from None
    except ValueError as err:
        raise CompareInputError(path, f"not JSON ({err})", fix) from None
    groups = {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}
    keys = {"accuracy", "accuracy_delta", "flip_rate", "mcnemar_p"}
    if "clean_accuracy" not in data or not groups or any(not keys <= set(v) for v in groups.values()):
        raise CompareInputError(path, f"expected clean_accuracy and per-perturbation {sorted(keys)}", fix)
    return data
