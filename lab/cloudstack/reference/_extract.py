"""Regenerate listApis-4.18.json from the full answer beside it (run by hand, not at import).

    python lab/cloudstack/reference/_extract.py lab/cloudstack/reference/listApis-4.18.json.gz

Keeps, for every one of the 705 commands of CloudStack 4.18's listApis output: isasync, each
parameter's type/required/length/since, and the names of the top-level response fields. Drops
descriptions (the file shrinks from 4.1 MB to 0.4 MB); nothing is renamed or reordered in meaning.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path


def extract(src: Path) -> dict[str, object]:
    with gzip.open(src, "rt", encoding="utf-8") if src.suffix == ".gz" else src.open() as f:
        apis = json.load(f)["api"]
    out: dict[str, object] = {}
    for api in apis:
        out[api["name"]] = {
            "isasync": api["isasync"],
            "params": {
                p["name"]: {k: p[k] for k in ("type", "required", "length", "since") if k in p}
                for p in api["params"]
            },
            "response": sorted({r["name"] for r in api.get("response", []) if "name" in r}),
        }
    return out


if __name__ == "__main__":
    src = Path(sys.argv[1])
    dst = Path(__file__).with_name("listApis-4.18.json")
    dst.write_text(json.dumps(extract(src), indent=0, sort_keys=True) + "\n")
    print(f"wrote {dst}")
