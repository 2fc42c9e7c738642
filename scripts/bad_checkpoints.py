#!/usr/bin/env python3
"""Writes the bad-checkpoint corpus (tests/bad_checkpoints/) from a good checkpoint.

    python3 scripts/bad_checkpoints.py GOOD.ckpt tests/bad_checkpoints

GOOD.ckpt: a lone replication of scenarios/musical_chairs_small.toml at step 2, e.g.
    microsim run scenarios/musical_chairs_small.toml --replications 1 \
        --set run.checkpoint_every=2 --out /tmp/good   # then /tmp/good/checkpoints/step-000002.ckpt
Each file is one way a checkpoint can be bad; expected.json says what `microsim resume`
must say about it (it must also exit 2 and name the file).
"""
import json
import struct
import sys
import zlib
from pathlib import Path

good = Path(sys.argv[1]).read_bytes()
out = Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)

assert good[:8] == b"MSIMCKPT"
fmt_good, hlen = struct.unpack_from("<II", good, 8)
header = json.loads(good[16:16 + hlen])
rest = good[16 + hlen:]  # body length, body, crc
body_len = struct.unpack_from("<Q", rest, 0)[0]
body = rest[8:8 + body_len]


def with_header(h, body_bytes=body, fmt=fmt_good):
    hb = json.dumps(h, indent=2).encode()
    crc = zlib.crc32(body_bytes) & 0xFFFFFFFF
    return (b"MSIMCKPT" + struct.pack("<II", fmt, len(hb)) + hb
            + struct.pack("<Q", len(body_bytes)) + body_bytes + struct.pack("<I", crc))


assert with_header(header) == good, "the script reads the format as written"
cases = {}


def case(name, data, says):
    (out / name).write_bytes(data)
    cases[name] = says


case("empty.ckpt", b"", "not a microsim checkpoint")
case("text.ckpt", b"step 40 of the robots run\n", "not a microsim checkpoint")
case("scenario_toml.ckpt", b'[scenario]\nmodel = "musical_chairs"\n', "not a microsim checkpoint")
case("png_image.ckpt", b"\x89PNG\r\n\x1a\n" + bytes(64), "not a microsim checkpoint")
case("cut_in_prefix.ckpt", good[:10], "ends inside its prefix")
case("cut_in_header.ckpt", good[:16 + hlen // 2], "truncated")
case("cut_in_body.ckpt", good[:len(good) // 2], "truncated")
case("cut_before_checksum.ckpt", good[:-2], "truncated")
flipped = bytearray(good)
flipped[16 + hlen + 8 + body_len // 2] ^= 0x40
case("flipped_byte.ckpt", bytes(flipped), "checksum does not match")
case("trailing_bytes.ckpt", good + b"\0\0\0\0", "bytes follow its end")
case("format_99.ckpt", with_header(header, fmt=99), "format 99")
case("huge_header_length.ckpt", good[:12] + struct.pack("<I", 0xFFFFFFF0) + good[16:],
     "header length is wrong")
bad_json = bytearray(good)
bad_json[16] = ord("[")
case("header_not_json.ckpt", bytes(bad_json), "header is not valid")
case("other_version.ckpt", with_header(dict(header, microsim="0.0.9")), "written by microsim 0.0.9")
case("unknown_model.ckpt", with_header(dict(header, model="ant_colony")), "ant_colony")
case("header_of_another_model.ckpt", with_header(dict(header, model="birthday")),
     "another model")
case("header_says_other_scenario.ckpt",
     with_header(dict(header, scenario_hash="0123456789abcdef")),
     "scenario does not match its header")
case("header_says_more_done.ckpt", with_header(dict(header, replications_done=7)),
     "header does not match its body")
# A body whose checksum is right but whose index is garbage (written by something else).
junk = struct.pack("<Q", 12) + b"\xff" * 12
case("index_garbage.ckpt", with_header(header, junk), "index")
# A body whose snapshot is cut short, with a checksum that matches (what a buggy copy tool
# that recomputes checksums would leave).
case("snapshot_cut.ckpt", with_header(header, body[: len(body) - 40]), "damaged")

# Header fields that disagree with the body (the checksum covers only the body, so these are
# what an edit of the readable header leaves).
case("header_format_other_than_prefix.ckpt", with_header(dict(header, format=2)),
     "its header says format 2")
case("header_says_other_seed.ckpt", with_header(dict(header, seed=header["seed"] + 1)),
     "is not its scenario's")
case("header_names_other_scenario.ckpt", with_header(dict(header, scenario="robots")),
     "another scenario than its body")
case("header_says_other_step.ckpt",
     with_header(dict(header, running=[header["running"][0], header["running"][1] + 1])),
     "header's step is not its snapshot's")
case("header_says_other_replication.ckpt",
     with_header(dict(header, running=[header["running"][0] + 1, header["running"][1]])),
     "header does not match its body")
case("header_says_nothing_running.ckpt", with_header(dict(header, running=None)),
     "header does not match its body")
case("header_microsim_missing.ckpt",
     with_header({k: v for k, v in header.items() if k != "microsim"}), "header is not valid")
# Lengths that lie: a body longer than the file, an index longer than the body.
case("body_length_past_the_end.ckpt",
     good[:16 + hlen] + struct.pack("<Q", 1 << 40) + good[16 + hlen + 8:], "truncated")
case("index_length_past_the_body.ckpt",
     with_header(header, struct.pack("<Q", 1 << 40) + body[8:]), "index runs past its end")
case("prefix_only.ckpt", good[:16], "truncated")
case("format_0.ckpt", with_header(header, fmt=0), "format 0")

(out / "expected.json").write_text(json.dumps(cases, indent=2, sort_keys=True) + "\n")
print(f"{len(cases)} files in {out}")
