"""The Markdown review comment for a change (scripts/pr_report.py), leading with what the change did.

First line: the quality metrics that changed against the base, each base → new (Δ with its 95% interval), or one
line saying none changed. Then both revisions' fine-tune deltas (zero-shot baseline → fine-tuned), the params that
changed, every metric, run-cost ratios from runs/*.json led by the largest, and every plot as content GitHub renders
in a comment (mermaid charts for curves, tables for the rest; a plot file that changed is always shown).
DVC runs as `<this python> -m dvc`.
"""

from __future__ import annotations

import csv
import io as textio
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nli.core.labels import LABELS
from nli.reporting import markdown
from nli.review.revisions import ReportError, dvc_json, git_files, git_rev_exists, read_file, run_command, short_sha

MAX_CELL_CHARS = 80
MAX_POINTS = 40
NO_VALUE = "—"
COLORS = ("#9e9e9e", "#1f77b4")  # base (grey), workspace (blue)
HEADLINE = {  # (metrics file, key) read for each revision's fine-tune line
    "before": ("metrics/baseline.json", "base_acc"),
    "after": ("metrics/finetuned.json", "ft_acc"),
    "delta": ("metrics/compare.json", "delta"),
    "low": ("metrics/compare.json", "delta_lo"),
    "high": ("metrics/compare.json", "delta_hi"),
    "p": ("metrics/compare.json", "mcnemar_p"),
    "fixed": ("metrics/compare.json", "fixed"),
    "broken": ("metrics/compare.json", "broken"),
}


@dataclass(frozen=True)
class DiffRow:
    """One key of a metrics or params file at the base revision (old) and in the workspace (new)."""

    path: str
    key: str
    old: Any
    new: Any

    @property
    def changed(self) -> bool:
        return self.old != self.new


# --------------------------------------------------------------------------- diffs


def flatten_diff(path: str, entries: dict[str, Any], prefix: str = "") -> list[DiffRow]:
    """Turn DVC's {key: {"old", "new", "diff"}} (possibly nested) into flat dotted rows."""
    rows: list[DiffRow] = []
    for key, value in entries.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and ("old" in value or "new" in value):
            rows.append(DiffRow(path, dotted, value.get("old"), value.get("new")))
        elif isinstance(value, dict):
            rows.extend(flatten_diff(path, value, prefix=f"{dotted}."))
    return rows


def diff_rows(diff: dict[str, Any]) -> list[DiffRow]:
    rows = [row for path, entries in diff.items() for row in flatten_diff(path, entries or {})]
    return sorted(rows, key=lambda row: (row.path, row.key))


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fmt(value: Any) -> str:
    if value is None:
        return NO_VALUE
    if is_number(value):
        return f"{value:.6g}"
    return json.dumps(value, separators=(", ", ": ")) if isinstance(value, (list, dict)) else str(value)


def change(row: DiffRow) -> str:
    if not row.changed:
        return NO_VALUE
    if row.old is None:
        return "new"
    if row.new is None:
        return "removed"
    if is_number(row.old) and is_number(row.new):
        return f"{row.new - row.old:+.4g}"
    return "changed"


# --------------------------------------------------------------------------- sections

# Keys shown as part of another on the first line: the interval beside its delta.
INTERVALS = {"delta": ("delta_lo", "delta_hi")}
LEAD_ORDER = ("base_acc", "ft_acc", "delta", "val_acc")  # the accuracies first, then the rest by name
PERCENT_KEYS = ("delta",)  # plus every *_acc: fractions shown as percent / percentage points


def _as_percent(key: str) -> bool:
    return key.endswith("_acc") or key in PERCENT_KEYS


def _value(key: str, value: Any, interval: tuple[Any, Any] | None = None) -> str:
    if not is_number(value):
        return fmt(value)
    if not _as_percent(key):
        return f"{value:.3g}" if key.endswith("_p") and not key.startswith("neg") else f"{value:.4g}"
    unit, signed = (" pp", "+") if key in PERCENT_KEYS else ("%", "")
    text = f"{100 * value:{signed}.1f}{unit}"
    if interval and all(is_number(v) for v in interval):
        text += f" [{100 * interval[0]:+.1f}, {100 * interval[1]:+.1f}]"
    return text


def changed_line(rows: list[DiffRow], base_name: str) -> str:
    """The first line: each quality metric that changed, base → new (Δ with its interval), or that none did."""
    index = {r.key: r for r in rows}
    folded = {k for pair in INTERVALS.values() for k in pair}
    changed = {r.key for r in rows if r.changed}
    parts = []
    for row in sorted(rows, key=lambda r: (LEAD_ORDER.index(r.key) if r.key in LEAD_ORDER else len(LEAD_ORDER), r.key)):
        key = row.key
        if key in folded:
            continue
        bounds = INTERVALS.get(key, ())
        if key not in changed and not any(b in changed for b in bounds):
            continue
        old_iv = tuple(index[b].old if b in index else None for b in bounds) or None
        new_iv = tuple(index[b].new if b in index else None for b in bounds) or None
        parts.append(f"{key} {_value(key, row.old, old_iv)} → {_value(key, row.new, new_iv)}")
    if not parts:
        return f"**No quality metric changed vs {base_name}.**"
    return f"**Changed vs {base_name}: {'; '.join(parts)}.**"


def headline(rows: list[DiffRow], side: str) -> str:
    """'33.4% → 67.6% (Δ +34.2 pp, 95% CI [+29.0, +39.4]; McNemar p = 1.2e-30; 190 fixed / 28 broken)'."""
    index = {(r.path, r.key): getattr(r, side) for r in rows}
    v = {name: index.get(where) for name, where in HEADLINE.items()}
    if not is_number(v["before"]) or not is_number(v["after"]):
        return "no accuracy metrics"
    text = f"{100 * v['before']:.1f}% → {100 * v['after']:.1f}%"
    extra = []
    if is_number(v["delta"]):
        ci = f", 95% CI [{100 * v['low']:+.1f}, {100 * v['high']:+.1f}]" if is_number(v["low"]) else ""
        extra.append(f"Δ {100 * v['delta']:+.1f} pp{ci}")
    if is_number(v["p"]):
        extra.append(f"McNemar p = {v['p']:.2g}")
    if is_number(v["fixed"]):
        extra.append(f"{v['fixed']} fixed / {v['broken']} broken")
    return text + (f" ({'; '.join(extra)})" if extra else "")


def metrics_section(rows: list[DiffRow]) -> list[str]:
    changed, same = [r for r in rows if r.changed], [r for r in rows if not r.changed]

    def table(subset: list[DiffRow]) -> str:
        cells = [[f"`{r.path}`", f"`{r.key}`", fmt(r.old), fmt(r.new), change(r)] for r in subset]
        return markdown.table(["File", "Metric", "Base", "New", "Change"], cells, max_chars=MAX_CELL_CHARS)

    lines = ["## Metrics", "", table(changed) if changed else "No metric changes."]
    if same:
        lines += ["", "<details>", f"<summary>Unchanged metrics ({len(same)})</summary>", "", table(same), "</details>"]
    return lines


def params_section(rows: list[DiffRow]) -> list[str]:
    cells = [[f"`{r.path}`", f"`{r.key}`", fmt(r.old), fmt(r.new)] for r in rows]
    body = markdown.table(["File", "Param", "Base", "New"], cells, max_chars=MAX_CELL_CHARS)
    return ["## Params changed", "", body if rows else "No param changes."]


def run_costs(rev: str | None) -> dict[str, dict[str, float]]:
    """Stage -> cost numbers from runs/<stage>.json (not DVC-tracked: git at ``rev``, or the workspace)."""
    costs = {}
    for path in git_files(rev, "runs"):
        try:
            cost = json.loads(read_file(rev, path) or "{}").get("cost", {})
        except json.JSONDecodeError:
            continue
        costs[Path(path).stem] = {k: v for k, v in cost.items() if is_number(v)}
    return costs


def cost_section(base: str) -> list[str]:
    old, new = run_costs(base), run_costs(None)
    ratios = []
    for stage in sorted(set(old) | set(new)):
        a, b = stage_seconds(old.get(stage, {})), stage_seconds(new.get(stage, {}))
        if is_number(a) and is_number(b) and a:
            ratios.append((b / a, stage))
    ratios.sort(key=lambda item: (-abs(item[0] - 1), item[1]))  # the largest change first, a slowdown or a speed-up
    rows = []
    for stage in sorted(set(old) | set(new)):
        for key in sorted(set(old.get(stage, {})) | set(new.get(stage, {}))):
            a, b = old.get(stage, {}).get(key), new.get(stage, {}).get(key)
            ratio = f"{b / a:.2f}x" if is_number(a) and is_number(b) and a else NO_VALUE
            rows.append([stage, key, fmt(a), fmt(b), ratio])
    lines = ["## Cost (runs/*.json, new / base)", ""]
    if not rows:
        return [*lines, "No run logs (runs/*.json) at either revision."]
    summary = []
    if ratios:
        (top, stage), rest = ratios[0], ratios[1:]
        others = f"; then {', '.join(f'{s} {r:.2f}x' for r, s in rest)}" if rest else ""
        summary = [f"Time, new / base: largest ratio **{stage} {top:.2f}x**{others}.", ""]
    return [*lines, *summary, markdown.table(["stage", "cost", "base", "new", "ratio"], rows)]


STAGE_SECONDS = ("stage_seconds", "seconds")  # a stage's whole wall time, whichever its run log records


def stage_seconds(cost: dict[str, float]) -> float | None:
    return next((cost[k] for k in STAGE_SECONDS if is_number(cost.get(k))), None)


def read_table(text: str | None, path: str) -> list[dict[str, str]]:
    if not text:
        return []
    return list(csv.DictReader(textio.StringIO(text), delimiter="\t" if path.endswith(".tsv") else ","))


def plots_section(base: str, plots_dir: Path | None) -> list[str]:
    plots = (yaml.safe_load(read_file(None, "dvc.yaml") or "{}") or {}).get("plots") or []
    parts = []
    for entry in plots:
        ((name, spec),) = entry.items() if isinstance(entry, dict) else [(entry, {})]
        spec = spec or {}
        x, ys = spec.get("x"), spec.get("y")
        if isinstance(ys, str):  # a plot named by its file: `plots/compare/slices.csv: {y: slice}`
            ys = {name: ys}
        if not isinstance(ys, dict) or not x:
            continue
        if spec.get("template", "").startswith("confusion"):
            parts += confusion_tables(base, spec.get("title", name), x, ys)
            continue
        if len(ys) != 1 or spec.get("template", "linear") != "linear":
            parts += changed_tables(base, spec.get("title", name), x, ys)
            continue
        ((path, y),) = ys.items()
        series = {}
        for label, rev in ((f"`{base}`", base), ("workspace", None)):
            rows = read_table(read_file(rev, path), path)
            points = {float(r[x]): float(r[y]) for r in rows if r.get(x) and r.get(y)}
            if points:
                series[label] = points
        if series:
            caption = " and ".join(f"{c} = {s}" for c, s in zip(("grey", "blue")[-len(series) :], series, strict=True))
            title = spec.get("title", name)
            chart = markdown.xychart(title, y, series, COLORS[-len(series) :], MAX_POINTS)
            parts += ["", f"**{title}** ({caption})", "", *chart]
    where = f"`dvc plots diff {base}` (renders offline)"
    if plots_dir is not None:
        try:
            plots_dir.mkdir(parents=True, exist_ok=True)  # dvc creates only the last path component
            run_command([sys.executable, "-m", "dvc", "plots", "diff", base, "--out", str(plots_dir)], "dvc plots diff")
            where = f"`{plots_dir}/index.html` (from `dvc plots diff {base}`; renders offline)"
        except ReportError as exc:
            where += f"; rendering them here failed: {exc}"
    return ["## Plots", "", f"All plots, interactive: {where}.", *parts]


def changed_tables(base: str, title: str, x: str, ys: dict[str, str]) -> list[str]:
    """A plot GitHub cannot draw from a template (slices, reliability): its changed rows, base → new."""
    parts = []
    for path in ys:
        old_rows, new_rows = read_table(read_file(base, path), path), read_table(read_file(None, path), path)
        if old_rows == new_rows:
            continue
        columns = list((new_rows or old_rows)[0])
        numeric = [c for c in columns if all(_number(r.get(c)) is not None for r in old_rows + new_rows)]
        keys = [c for c in columns if c not in numeric]
        old = {tuple(r[k] for k in keys): r for r in old_rows}
        new = {tuple(r[k] for k in keys): r for r in new_rows}
        cells = []
        for key in sorted(old.keys() | new.keys()):
            a, b = old.get(key, {}), new.get(key, {})
            if a == b:
                continue
            values = [
                fmt(a.get(c)) if a.get(c) == b.get(c) else f"{a.get(c, NO_VALUE)} → {b.get(c, NO_VALUE)}"
                for c in numeric
            ]
            cells.append([*key, *values])
        shown = cells[:MAX_POINTS]
        more = f" (first {MAX_POINTS} of {len(cells)})" if len(cells) > MAX_POINTS else ""
        parts += ["", f"**{title}**: `{path}`, changed rows base → new{more}", ""]
        parts += [markdown.table([*keys, *numeric], shown, max_chars=MAX_CELL_CHARS)]
    return parts


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def confusion_tables(base: str, title: str, x: str, ys: dict[str, str]) -> list[str]:
    parts = ["", f"**{title}** (rows: gold, columns: predicted; counts as base → new where they differ)"]
    for path, y in ys.items():
        old = Counter((r[y], r[x]) for r in read_table(read_file(base, path), path))
        new = Counter((r[y], r[x]) for r in read_table(read_file(None, path), path))
        if not old and not new:
            continue

        cells = {k: str(new[k]) if old[k] == new[k] else f"{old[k]} → {new[k]}" for k in old.keys() | new.keys()}
        rows = [[gold, *(cells.get((gold, pred), "0") for pred in LABELS)] for gold in LABELS]
        parts += ["", f"`{path}`", "", markdown.table(["gold ↓ predicted →", *LABELS], rows)]
    return parts


def build_report(base: str, plots_dir: Path | None = None) -> str:
    base_name = f"`{base}` ({short_sha(base)})"
    metrics = diff_rows(dvc_json("metrics", "diff", base, "--all"))
    params = diff_rows(dvc_json("params", "diff", base))
    now, then = headline(metrics, "new"), headline(metrics, "old")
    if not params and not any(r.changed for r in metrics):
        return f"**No change vs {base_name}**: all {len(metrics)} metrics and all params identical; accuracy {now}.\n"
    lines = [
        changed_line(metrics, base_name),
        "",
        f"Fine-tuning, zero-shot → fine-tuned accuracy: this change {now}; base {base_name}: {then}.",
        "",
        f"Workspace (HEAD {short_sha('HEAD') if git_rev_exists('HEAD') else 'none'}) against {base_name}. "
        "Accuracy: zero-shot baseline → fine-tuned on the test set; Δ = fine-tuned − baseline.",
        "",
        *params_section(params),
        "",
        *metrics_section(metrics),
        "",
        *cost_section(base),
    ]
    return "\n".join([*lines, "", *plots_section(base, plots_dir)]) + "\n"
