"""``tfjs``: the TensorFlow.js weights layout (formats/tfjs.ts).

``weights_manifest.json`` lists the binary files (``group1-shardKofN.bin``) in order; records.json
gives each record's file number and offset; a record is ``record_bytes`` of tensor bytes there.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Tuple

from ..errors import corrupt_record
from ..manifest import parse_json_bytes
from .base import ShardPlan, check_file_sizes, open_record_table, read_verified_file

TFJS_MANIFEST_FILE = "weights_manifest.json"


class TfjsPlan(ShardPlan):
    format = "tfjs"

    def __init__(self, directory: str, manifest: Dict[str, Any], table: Any, paths: List[str]) -> None:
        super().__init__(directory, manifest, table)
        self.paths = paths

    def locate(self, i: int) -> Tuple[str, int, int]:
        f = int(self.table.files[i])
        if f >= len(self.paths):
            raise self.corrupt(i, f"records.json names data file {f}, but the weights manifest lists {len(self.paths)}")
        return self.paths[f], int(self.table.offsets[i]), self.record_bytes


def prepare(directory: str, manifest: Dict[str, Any], verify: bool) -> TfjsPlan:
    check_file_sizes(directory, manifest)
    table = open_record_table(directory, manifest, verify, need=("offsets", "files"))
    where = os.path.join(directory, TFJS_MANIFEST_FILE)
    parsed = parse_json_bytes(read_verified_file(directory, manifest, TFJS_MANIFEST_FILE, verify), where)
    groups = parsed.get("weightsManifest") if isinstance(parsed, dict) else None
    group = groups[0] if isinstance(groups, list) and len(groups) == 1 and isinstance(groups[0], dict) else {}
    paths, weights = group.get("paths"), group.get("weights")
    names = {f["name"] for f in manifest["files"]}
    if not isinstance(paths, list) or not all(isinstance(p, str) and p in names for p in paths) \
            or not isinstance(weights, list) or len(weights) != manifest["records"]:
        raise corrupt_record(manifest["index"], "tfjs", 0, "-",
                             f"{where} is not a weights manifest of {manifest['records']} records whose paths are files of the shard")
    return TfjsPlan(directory, manifest, table, list(paths))
