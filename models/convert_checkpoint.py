#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Convert a TFM-Tokenizer / TFM-Encoder PyTorch checkpoint (.pth state_dict,
as saved by the authors' code) into the safetensors file the neurotokens
model library loads, with the model description in __metadata__.

Only Debian's python3-torch is needed. The hyper-parameters are read from the
tensor shapes (embedding size, depths, codebook size, bins, patch sizes,
class count); the ones shapes cannot tell (heads, hop, window, sample rate,
labels, ...) come from options, defaulting to the authors' values. Every
tensor name and shape is checked against the architecture those numbers
define: anything unknown, missing or mis-shaped is refused with a message
naming it, so a converted file always loads.

Examples:
  convert_checkpoint.py tfm_tokenizer_last.pth eeg-tokenizer.safetensors --window-samples 1000
  convert_checkpoint.py tfm_encoder_best_model.pth tuev.safetensors \\
      --labels SPSW,GPED,PLED,EYEM,ARTF,BCKG --window-samples 1000 \\
      --meta channels=FP1-F7,F7-T3,T3-T5,T5-O1,FP2-F8,F8-T4,T4-T6,T6-O2,FP1-F3,F3-C3,C3-P3,P3-O1,FP2-F4,F4-C4,C4-P4,P4-O2
"""

import argparse
import json
import os
import re
import struct
import sys

import torch


class ConversionError(Exception):
    pass


def lat_shapes(prefix, depth, emb):
    """Names and shapes of `depth` linear-attention blocks (lucidrains 0.19.1)."""
    out = {}
    for i in range(depth):
        p = "%s.layers.layers.%d" % (prefix, i)
        for m in ("to_q", "to_k", "to_v", "to_out"):
            out[p + ".0.fn.%s.weight" % m] = (emb, emb)
        out[p + ".0.fn.to_out.bias"] = (emb,)
        out[p + ".0.norm.weight"] = out[p + ".0.norm.bias"] = (emb,)
        out[p + ".1.fn.fn.w1.weight"] = (4 * emb, emb)
        out[p + ".1.fn.fn.w1.bias"] = (4 * emb,)
        out[p + ".1.fn.fn.w2.weight"] = (emb, 4 * emb)
        out[p + ".1.fn.fn.w2.bias"] = (emb,)
        out[p + ".1.norm.weight"] = out[p + ".1.norm.bias"] = (emb,)
    return out


def count_blocks(state, prefix):
    pattern = re.compile(re.escape(prefix) + r"\.layers\.layers\.(\d+)\.")
    found = {int(m.group(1)) for m in (pattern.match(k) for k in state) if m}
    return max(found) + 1 if found else 0


def shape_of(state, name, dims):
    if name not in state:
        raise ConversionError("missing tensor '%s': not a %s checkpoint?" % (name, "TFM"))
    shape = tuple(state[name].shape)
    if len(shape) != dims:
        raise ConversionError("tensor '%s' has shape %s, expected %d dimensions" % (name, list(shape), dims))
    return shape


def tokenizer_layout(state, heads):
    """Hyper-parameters and expected shapes of TFM_VQVAE2_deep."""
    emb, _, patch = shape_of(state, "freq_patch_embedding.0.weight", 3)
    _, _, kernel = shape_of(state, "temporal_patch_embedding.0.weight", 3)
    codebook, _ = shape_of(state, "quantizer.embedding.weight", 2)
    bins, _ = shape_of(state, "decoder.2.weight", 2)
    if emb % 8 or emb % heads or bins < patch * patch:
        raise ConversionError("unsupported tokenizer shape: embedding %d, heads %d, bins %d, patch %d"
                              % (emb, heads, bins, patch))
    agg = emb // (2 * (bins // (patch * patch)))
    cfg = {"embedding-size": emb, "heads": heads, "freq-patch": patch, "n-fft": kernel, "bins": bins,
           "vocabulary": codebook,
           "freq-depth": count_blocks(state, "trans_freq_encoder.transformer"),
           "temporal-depth": count_blocks(state, "trans_temporal_encoder.transformer"),
           "decoder-depth": count_blocks(state, "trans_decoder.transformer")}
    if agg * ((bins // patch) // patch) != emb // 2:
        raise ConversionError("frequency features (%d channels x %d positions) do not fill embedding/2 = %d"
                              % (agg, (bins // patch) // patch, emb // 2))
    s = {}  # in the authors' module order, i.e. their state_dict order
    for branch, stem in (("freq_patch_embedding", (emb, 1, patch)), ("temporal_patch_embedding", (emb, 1, kernel))):
        out = emb if branch == "freq_patch_embedding" else emb // 2
        s[branch + ".0.weight"], s[branch + ".0.bias"] = stem, (emb,)
        s[branch + ".2.weight"] = s[branch + ".2.bias"] = (emb,)
        s[branch + ".3.weight"], s[branch + ".3.bias"] = (emb, emb, 1), (emb,)
        s[branch + ".5.weight"] = s[branch + ".5.bias"] = (emb,)
        s[branch + ".6.weight"], s[branch + ".6.bias"] = (out, emb, 1), (out,)
        s[branch + ".8.weight"] = s[branch + ".8.bias"] = (out,)
        if branch == "freq_patch_embedding":
            s.update(lat_shapes("trans_freq_encoder.transformer", cfg["freq-depth"], emb))
    for name in ("freq_patch_embedding_2_atten.0", "freq_patch_embedding_2.0"):
        s[name + ".weight"], s[name + ".bias"] = (agg, emb, patch), (agg,)
    s.update(lat_shapes("trans_temporal_encoder.transformer", cfg["temporal-depth"], emb))
    s["quantizer.cluster_size"] = (codebook,)
    s["quantizer.ema_w"] = s["quantizer.embedding.weight"] = (codebook, emb)
    s.update(lat_shapes("trans_decoder.transformer", cfg["decoder-depth"], emb))
    s["decoder.0.weight"], s["decoder.0.bias"] = (emb, emb), (emb,)
    s["decoder.2.weight"], s["decoder.2.bias"] = (bins, emb), (bins,)
    return cfg, s


def encoder_layout(state, heads):
    """Hyper-parameters and expected shapes of TFM_TOKEN_Classifier."""
    rows, emb = shape_of(state, "eeg_token_embedding.weight", 2)
    channels, _ = shape_of(state, "channel_embed.weight", 2)
    _, frames, _ = shape_of(state, "temporal_pos_embed.pe", 3)
    classes, _ = shape_of(state, "classification_head.weight", 2)
    if emb % heads:
        raise ConversionError("embedding size %d is not a multiple of %d heads" % (emb, heads))
    cfg = {"embedding-size": emb, "heads": heads, "vocabulary": rows - 1, "depth": count_blocks(state, "LAT")}
    s = {"index": (channels,), "cls_token": (1, 1, emb), "eeg_token_embedding.weight": (rows, emb),
         "channel_embed.weight": (channels, emb), "temporal_pos_embed.pe": (1, frames, emb)}
    s.update(lat_shapes("LAT", cfg["depth"], emb))
    s["classification_head.weight"], s["classification_head.bias"] = (classes, emb), (classes,)
    return cfg, s, classes


def check_names_and_shapes(state, expected):
    missing = [n for n in expected if n not in state]
    unexpected = [n for n in state if n not in expected]
    wrong = ["%s %s (expected %s)" % (n, list(state[n].shape), list(expected[n]))
             for n in expected if n in state and tuple(state[n].shape) != tuple(expected[n])]
    problems = []
    if missing:
        problems.append("missing tensors: " + ", ".join(missing))
    if unexpected:
        problems.append("unknown tensors: " + ", ".join(unexpected))
    if wrong:
        problems.append("unexpected shapes: " + "; ".join(wrong))
    if problems:
        raise ConversionError("; ".join(problems))


def load_state_dict(path, strip_prefix):
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for corrupt files
        raise ConversionError("cannot read %s as a PyTorch checkpoint: %s" % (path, e))
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(torch.is_tensor(v) for v in obj.values()):
        raise ConversionError("%s does not hold a state_dict of tensors" % path)
    if strip_prefix:
        obj = {k[len(strip_prefix):] if k.startswith(strip_prefix) else k: v for k, v in obj.items()}
    return obj


def write_safetensors(path, state, metadata):
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, t in state.items():
        t = t.detach().cpu().contiguous()
        if t.is_floating_point():
            t, dtype = t.to(torch.float32), "F32"
        elif t.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
            t, dtype = t.to(torch.int64), "I64"
        else:
            raise ConversionError("tensor '%s' has unsupported dtype %s" % (name, t.dtype))
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help="PyTorch state_dict (.pth)")
    p.add_argument("output", help="safetensors file to write")
    p.add_argument("--heads", type=int, default=8, help="attention heads (not visible in shapes; authors: 8)")
    p.add_argument("--hop", type=int, help="temporal conv stride = STFT hop in samples (default: n-fft/2)")
    p.add_argument("--sample-rate", type=int, default=200, help="input sample rate in Hz (default 200)")
    p.add_argument("--window-samples", type=int, default=2000, help="tokenizer/classifier window in samples "
                   "(default 2000 = 10 s at 200 Hz; the authors' TUEV models use 1000)")
    p.add_argument("--modality", default="eeg", help="eeg, audio, haptic, ... (default eeg)")
    p.add_argument("--labels", help="comma list of class labels (classifiers)")
    p.add_argument("--id", help="model identifier (default: output file name)")
    p.add_argument("--strip-prefix", default="", help="remove this prefix from every tensor name")
    p.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                   help="extra metadata entry (repeatable; overrides the derived ones)")
    return p.parse_args(argv)


def convert(args):
    state = load_state_dict(args.input, args.strip_prefix)
    if "quantizer.embedding.weight" in state:
        cfg, expected = tokenizer_layout(state, args.heads)
        cfg["architecture"] = "tfm-tokenizer"
        cfg["hop"] = args.hop or cfg["n-fft"] // 2
    elif "classification_head.weight" in state:
        cfg, expected, classes = encoder_layout(state, args.heads)
        cfg["architecture"] = "tfm-encoder"
        if args.labels and len(args.labels.split(",")) != max(classes, 2):
            raise ConversionError("--labels lists %d labels but the head has %d outputs"
                                  % (len(args.labels.split(",")), classes))
    else:
        raise ConversionError("%s is neither a TFM tokenizer (quantizer.embedding.weight) nor a TFM encoder "
                              "(classification_head.weight)" % args.input)
    check_names_and_shapes(state, expected)
    meta = {k: str(v) for k, v in cfg.items()}
    meta.update({"sample-rate": str(args.sample_rate), "window-samples": str(args.window_samples),
                 "modality": args.modality, "source": os.path.basename(args.input),
                 "id": args.id or os.path.basename(args.output).rsplit(".safetensors", 1)[0]})
    if args.labels:
        meta["labels"] = args.labels
    for item in args.meta:
        if "=" not in item:
            raise ConversionError("--meta expects KEY=VALUE, got '%s'" % item)
        key, value = item.split("=", 1)
        meta[key] = value
    # state_dict order; names and shapes verified above
    write_safetensors(args.output, {n: state[n] for n in state}, meta)
    return meta


def main(argv):
    args = parse_args(argv)
    try:
        meta = convert(args)
    except ConversionError as e:
        print("convert_checkpoint: %s: %s" % (args.input, e), file=sys.stderr)
        return 2
    print("wrote %s (%s)" % (args.output, ", ".join("%s=%s" % kv for kv in sorted(meta.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
