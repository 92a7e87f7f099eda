"""Profiles: conf/config.yaml (the default recipe) plus one conf/profile/<name>.yaml delta, composed into params.

params.yaml is the single source the pipeline reads and the file `dvc exp run -S`, `dvc exp apply` and
`dvc exp branch` change; composition runs only when a user asks for a profile (scripts/compose_params.py), so an
applied or branched experiment is never silently rebuilt from conf/. Hydra does the composing (its override
syntax is the one `dvc exp run -S` uses); every Hydra or OmegaConf failure becomes one :class:`UserError`.
"""

from __future__ import annotations

from pathlib import Path

from nli.core.errors import UserError


def available(conf_dir: str | Path) -> list[str]:
    return sorted(p.stem for p in (Path(conf_dir) / "profile").glob("*.yaml"))


def compose(conf_dir: str | Path, profile: str | None = None, overrides: list[str] | tuple[str, ...] = ()) -> dict:
    """The params ``profile`` (default: the one conf/config.yaml names) with ``overrides`` applied, as a dict."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    conf_dir = Path(conf_dir).resolve()
    if not (conf_dir / "config.yaml").is_file():
        raise UserError(f"{conf_dir / 'config.yaml'} not found; run from the repository root")
    overrides = list(overrides)
    for text in overrides:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise UserError(f"override {text!r} is not key=value; write e.g. train.lr=0.001 or profile=smoke")
        if key.strip().lstrip("+~") == "profile":
            profile = value.strip()
    overrides = [o for o in overrides if o.partition("=")[0].strip().lstrip("+~") != "profile"]
    names = available(conf_dir)
    if profile is not None and profile not in names:
        raise UserError(f"unknown profile {profile!r} (no conf/profile/{profile}.yaml); profiles: {', '.join(names)}")
    if profile is not None:
        overrides.append(f"profile={profile}")
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(conf_dir), version_base=None):
            cfg = hydra_compose(config_name="config", overrides=overrides)
        params = OmegaConf.to_container(cfg, resolve=True)
    except (HydraException, OmegaConfBaseException) as exc:
        raise UserError(_one_line(exc)) from None
    finally:
        GlobalHydra.instance().clear()
    if profile is not None:
        params["profile"] = profile
    return params


def _one_line(exc: Exception) -> str:
    """Hydra's multi-line messages, shortened to what was wrong and how to fix it."""
    text = str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if "not in struct" in text or "Could not override" in text:
        key = lines[0].removeprefix("Could not override").strip(" '.")
        return f"override {key!r}: no such key in conf/config.yaml; check the spelling (a new key needs +{key}=...)"
    if "mismatched input" in text or "no viable alternative" in text or "token recognition" in text:
        return f"cannot parse override: {lines[0]}; write key=value, e.g. train.lr=0.001"
    return "; ".join(lines[:2])


def dumps(params: dict) -> str:
    import yaml

    return yaml.safe_dump(params, sort_keys=False, allow_unicode=True, width=120)


def _flat(tree: dict, prefix: str = "") -> dict[str, object]:
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _delta_keys(conf_dir: Path, name: str) -> list[str]:
    import yaml

    delta = yaml.safe_load((conf_dir / "profile" / f"{name}.yaml").read_text(encoding="utf-8")) or {}
    return [k for k in _flat(delta) if k != "profile"]


def check_label(params: dict, conf_dir: str | Path, where: str = "params.yaml") -> None:
    """Refuse a ``profile`` label that contradicts the values: the trace of `dvc exp run -S profile=NAME`.

    params.yaml is the source, so setting ``profile`` alone changes a label, not the recipe. Caught: the values of
    another profile's own keys all present under this label, or none of this profile's own keys at its values. An
    experiment that overrides some of its profile's keys (smoke with more training pairs) still passes.
    """
    conf_dir = Path(conf_dir)
    name, names = params.get("profile"), available(conf_dir)
    if name not in names:
        raise UserError(f"{where}: profile = {name!r} is not a file of conf/profile/ ({', '.join(names)})")
    flat = _flat(params)
    composed = {n: _flat(compose(conf_dir, n)) for n in names}
    fix = (
        f"switch profiles with `python scripts/compose_params.py --profile {name}` (then `dvc exp run`); "
        "`dvc exp run -S profile=...` only renames"
    )
    own = [k for k in _delta_keys(conf_dir, name) if composed[name][k] != composed["embedded-default"].get(k)]
    if own and all(flat.get(k) != composed[name][k] for k in own):
        shown = ", ".join(f"{k}={flat.get(k)!r}" for k in own[:3])
        raise UserError(f"{where}: profile = {name} but none of its values are set ({shown}); {fix}")
    for other in names:
        keys = [k for k in _delta_keys(conf_dir, other) if composed[other][k] != composed[name].get(k)]
        if other != name and keys and all(flat.get(k) == composed[other][k] for k in keys):
            shown = ", ".join(f"{k}={composed[other][k]!r}" for k in keys[:3])
            raise UserError(f"{where}: profile = {name} but the values are profile {other}'s ({shown}); {fix}")
