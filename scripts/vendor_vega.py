#!/usr/bin/env python3
"""Build .dvc/plots/offline.html: DVC's plots page with vega, vega-lite and vega-embed inlined.

    python scripts/vendor_vega.py            # needs npm and the npm registry, once per version bump

DVC's page loads the three libraries from a CDN, so `dvc plots show/diff` renders a blank page
offline. `.dvc/config` points `plots.html_template` at this file; it has no `{scripts}`
placeholder, so DVC's CDN <script src> tags are never added, and DVC fills `{plot_divs}` only.
"""

from __future__ import annotations

import argparse
import subprocess
import tarfile
import tempfile
from pathlib import Path

from nli.core import files

PACKAGES = {  # npm package@version -> file inside the tarball
    "vega@5.33.1": "package/build/vega.min.js",
    "vega-lite@5.23.0": "package/build/vega-lite.min.js",
    "vega-embed@6.29.0": "package/build/vega-embed.min.js",
}

PAGE = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>DVC Plot</title>
    <!-- Inlined by scripts/vendor_vega.py: {versions}
         (BSD-3-Clause, (c) University of Washington Interactive Data Lab) -->
{inline}
    <style>
        table {
            border-spacing: 15px;
        }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(".dvc/plots/offline.html"))
    args = parser.parse_args()
    scripts = []
    with tempfile.TemporaryDirectory() as tmp:
        for package, member in PACKAGES.items():
            done = subprocess.run(["npm", "pack", "--silent", package], cwd=tmp, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"error: npm pack {package} failed: {done.stderr.strip().splitlines()[-1:]}")
            with tarfile.open(Path(tmp) / done.stdout.strip().splitlines()[-1]) as tar:
                code = tar.extractfile(member).read().decode("utf-8")
            if "</script" in code or "{plot_divs}" in code:
                raise SystemExit(f"error: {package}/{member} cannot be inlined (contains </script or {{plot_divs}})")
            scripts.append(f"    <script>/* {package} */\n{code}\n    </script>")
    page = PAGE.replace("{versions}", ", ".join(PACKAGES)).replace("{inline}", "\n".join(scripts))
    files.write_text(args.out, page)  # str.replace, not format: DVC fills {refresh_tag} and {plot_divs} later
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
