# SPDX-License-Identifier: LGPL-2.1-or-later
"""Independent NumPy float64 reference of the TFM models, written from
docs/architecture.md (not from the C++ code): explicit per-head
loops, explicit GroupNorms and convolutions, so that a shared mistake with the
LibTorch implementation is unlikely.

Also a minimal safetensors reader/writer (numpy only) for the tests."""

import json
import struct

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "F16": np.float16}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[base + b:base + end], dtype=DTYPES[e["dtype"]])
        tensors[name] = arr.reshape(e["shape"]).copy()
    return tensors, meta


def write_safetensors(path, tensors, metadata=None, header_override=None):
    """tensors: list of (name, array) in file order. header_override lets a
    negative test corrupt single header fields."""
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs, off = [], 0
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr)
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": NAMES[arr.dtype], "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if header_override:
        header_override(header)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# ---- building blocks -------------------------------------------------------

def gelu(x):
    from scipy.special import erf
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def group_norm(x, groups, w, b, eps=1e-5):
    """x: (batch, channels, length), PyTorch layout."""
    B, C, L = x.shape
    g = x.reshape(B, groups, C // groups * L)
    mu = g.mean(-1, keepdims=True)
    var = ((g - mu) ** 2).mean(-1, keepdims=True)
    y = ((g - mu) / np.sqrt(var + eps)).reshape(B, C, L)
    return y * w[None, :, None] + b[None, :, None]


def conv1d(x, w, b, stride):
    """x: (batch, in, length), w: (out, in, k)."""
    B, Cin, L = x.shape
    out, _, k = w.shape
    n = (L - k) // stride + 1
    y = np.empty((B, out, n))
    for t in range(n):
        patch = x[:, :, t * stride:t * stride + k]          # (B, in, k)
        y[:, :, t] = np.einsum("bik,oik->bo", patch, w) + b
    return y


def softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=axis, keepdims=True)


def lat_block(W, p, x, heads):
    """One pre-norm linear-attention block on x (n, d) (section 1)."""
    d = x.shape[-1]
    e = d // heads
    a = layer_norm(x, W[p + ".0.norm.weight"], W[p + ".0.norm.bias"])
    Q = a @ W[p + ".0.fn.to_q.weight"].T
    K = a @ W[p + ".0.fn.to_k.weight"].T
    V = a @ W[p + ".0.fn.to_v.weight"].T
    o = np.empty_like(Q)
    for j in range(heads):
        sl = slice(e * j, e * (j + 1))
        q = softmax(Q[:, sl], axis=1) * e ** -0.5
        k = softmax(K[:, sl], axis=0)
        ctx = k.T @ V[:, sl]
        o[:, sl] = q @ ctx
    x = x + o @ W[p + ".0.fn.to_out.weight"].T + W[p + ".0.fn.to_out.bias"]
    b = layer_norm(x, W[p + ".1.norm.weight"], W[p + ".1.norm.bias"])
    ff = p + ".1.fn.fn"
    h = gelu(b @ W[ff + ".w1.weight"].T + W[ff + ".w1.bias"])
    return x + h @ W[ff + ".w2.weight"].T + W[ff + ".w2.bias"]


def lat_stack(W, stack, depth, x, heads=8):
    for i in range(depth):
        x = lat_block(W, "%s.layers.layers.%d" % (stack, i), x, heads)
    return x


def as64(tensors):
    return {k: v.astype(np.float64) if v.dtype.kind == "f" else v for k, v in tensors.items()}


# ---- classifier (section 3) --------------------------------------------------

def classifier_logits(W, tokens, depth=4, heads=8):
    """tokens: (C, T) ints -> logits (classes,)."""
    C, T = tokens.shape
    e = W["eeg_token_embedding.weight"][tokens]                      # (C, T, d)
    ch = W["channel_embed.weight"][W["index"][:C]]                   # (C, d)
    x = (e + ch[:, None, :]) + W["temporal_pos_embed.pe"][0, :T][None]
    x = x.reshape(C * T, -1)                                         # channel-major
    x = np.concatenate([W["cls_token"][0], x], axis=0)
    x = lat_stack(W, "LAT", depth, x, heads)
    return W["classification_head.weight"] @ x[0] + W["classification_head.bias"]


# ---- tokenizer (section 2) ---------------------------------------------------

def stft_magnitude(raw, n_fft=200, hop=100, bins=100):
    """|STFT| with the periodic Hann window, no centring: (N, S) -> (N, bins, T)."""
    m = np.arange(n_fft)
    w = 0.5 - 0.5 * np.cos(2 * np.pi * m / n_fft)
    T = (raw.shape[1] - n_fft) // hop + 1
    frames = np.stack([raw[:, t * hop:t * hop + n_fft] for t in range(T)], axis=1) * w   # (N, T, n_fft)
    k = np.arange(bins)
    basis = np.exp(-2j * np.pi * np.outer(m, k) / n_fft)                                # (n_fft, bins)
    return np.abs(frames @ basis).transpose(0, 2, 1)


def tokenizer_quant_in(W, stft, raw, cfg):
    """stft (N, bins, T), raw (N, S) -> quant_in (N, T, emb) in float64."""
    emb, p, kernel, stride = cfg["emb"], cfg["freq_patch"], cfg["kernel"], cfg["stride"]
    N, bins, T = stft.shape
    G = emb // 4
    # A: frequency branch, one 1-D signal of bins per (window, frame)
    x = stft.transpose(0, 2, 1).reshape(N * T, 1, bins)
    x = group_norm(gelu(conv1d(x, W["freq_patch_embedding.0.weight"], W["freq_patch_embedding.0.bias"], p)),
                   G, W["freq_patch_embedding.2.weight"], W["freq_patch_embedding.2.bias"])
    x = group_norm(gelu(conv1d(x, W["freq_patch_embedding.3.weight"], W["freq_patch_embedding.3.bias"], 1)),
                   G, W["freq_patch_embedding.5.weight"], W["freq_patch_embedding.5.bias"])
    x = group_norm(gelu(conv1d(x, W["freq_patch_embedding.6.weight"], W["freq_patch_embedding.6.bias"], 1)),
                   G, W["freq_patch_embedding.8.weight"], W["freq_patch_embedding.8.bias"])
    seq = x.transpose(0, 2, 1)                                       # (N*T, P, emb)
    seq = np.stack([lat_stack(W, "trans_freq_encoder.transformer", cfg["freq_depth"], s, cfg["heads"]) for s in seq])
    x = seq.transpose(0, 2, 1)
    g = 1.0 / (1.0 + np.exp(-conv1d(x, W["freq_patch_embedding_2_atten.0.weight"],
                                    W["freq_patch_embedding_2_atten.0.bias"], p)))
    v = conv1d(x, W["freq_patch_embedding_2.0.weight"], W["freq_patch_embedding_2.0.bias"], p)
    u = (v * g).reshape(N * T, -1).reshape(N, T, -1)                 # feature = c * positions + pos
    # B: temporal branch
    t = raw[:, None, :]
    t = group_norm(gelu(conv1d(t, W["temporal_patch_embedding.0.weight"], W["temporal_patch_embedding.0.bias"], stride)),
                   G, W["temporal_patch_embedding.2.weight"], W["temporal_patch_embedding.2.bias"])
    t = group_norm(gelu(conv1d(t, W["temporal_patch_embedding.3.weight"], W["temporal_patch_embedding.3.bias"], 1)),
                   G, W["temporal_patch_embedding.5.weight"], W["temporal_patch_embedding.5.bias"])
    t = group_norm(gelu(conv1d(t, W["temporal_patch_embedding.6.weight"], W["temporal_patch_embedding.6.bias"], 1)),
                   G, W["temporal_patch_embedding.8.weight"], W["temporal_patch_embedding.8.bias"])
    t = t.transpose(0, 2, 1)
    # C: fusion (frequency first), temporal transformer, L2 normalisation
    x = np.concatenate([u, t], axis=-1)
    x = np.stack([lat_stack(W, "trans_temporal_encoder.transformer", cfg["temporal_depth"], s, cfg["heads"]) for s in x])
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def code_distances(quant_in, codebook):
    """float32 distances |x|^2 - 2 x.E + |E|^2 (N*T, K), in that order."""
    x = quant_in.reshape(-1, quant_in.shape[-1]).astype(np.float32)
    E = codebook.astype(np.float32)
    return ((x * x).sum(1, keepdims=True) - np.float32(2) * (x @ E.T)) + (E * E).sum(1)[None, :]


AUTHORS_TOKENIZER = dict(emb=64, heads=8, freq_depth=2, temporal_depth=2, decoder_depth=8, codebook=8192,
                         bins=100, freq_patch=5, kernel=200, stride=100)


def random_tokenizer_weights(rng, cfg=AUTHORS_TOKENIZER, unit_codebook=False):
    """Weights of the authors' names and shapes for `cfg`, drawn so that every
    stage has O(1) activations (random biases and norm affines included)."""
    emb, p, K, bins = cfg["emb"], cfg["freq_patch"], cfg["codebook"], cfg["bins"]
    A = emb // (2 * (bins // (p * p)))
    out = []

    def lin(name, shape, fan_in):
        b = 1.0 / np.sqrt(fan_in)
        out.append((name + ".weight", rng.uniform(-b, b, shape).astype(np.float32)))
        out.append((name + ".bias", rng.uniform(-b, b, shape[0]).astype(np.float32)))

    def norm(name, c):
        out.append((name + ".weight", (1 + 0.2 * rng.standard_normal(c)).astype(np.float32)))
        out.append((name + ".bias", (0.2 * rng.standard_normal(c)).astype(np.float32)))

    def stack(prefix, depth):
        for i in range(depth):
            q = "%s.layers.layers.%d" % (prefix, i)
            for m in ("to_q", "to_k", "to_v"):
                out.append((q + ".0.fn.%s.weight" % m, rng.uniform(-1, 1, (emb, emb)).astype(np.float32) / np.sqrt(emb) * 2))
            lin(q + ".0.fn.to_out", (emb, emb), emb)
            norm(q + ".0.norm", emb)
            lin(q + ".1.fn.fn.w1", (4 * emb, emb), emb)
            lin(q + ".1.fn.fn.w2", (emb, 4 * emb), 4 * emb)
            norm(q + ".1.norm", emb)

    lin("freq_patch_embedding.0", (emb, 1, p), p)
    norm("freq_patch_embedding.2", emb)
    lin("freq_patch_embedding.3", (emb, emb, 1), emb)
    norm("freq_patch_embedding.5", emb)
    lin("freq_patch_embedding.6", (emb, emb, 1), emb)
    norm("freq_patch_embedding.8", emb)
    stack("trans_freq_encoder.transformer", cfg["freq_depth"])
    lin("temporal_patch_embedding.0", (emb, 1, cfg["kernel"]), cfg["kernel"])
    norm("temporal_patch_embedding.2", emb)
    lin("temporal_patch_embedding.3", (emb, emb, 1), emb)
    norm("temporal_patch_embedding.5", emb)
    lin("temporal_patch_embedding.6", (emb // 2, emb, 1), emb)
    norm("temporal_patch_embedding.8", emb // 2)
    lin("freq_patch_embedding_2_atten.0", (A, emb, p), emb * p)
    lin("freq_patch_embedding_2.0", (A, emb, p), emb * p)
    stack("trans_temporal_encoder.transformer", cfg["temporal_depth"])
    E = rng.standard_normal((K, emb)).astype(np.float32)
    if unit_codebook:
        E = (E / np.linalg.norm(E, axis=1, keepdims=True)).astype(np.float32)
    else:
        E *= np.float32(0.3)
    out.append(("quantizer.cluster_size", rng.uniform(0, 5, K).astype(np.float32)))
    out.append(("quantizer.ema_w", E.copy()))
    out.append(("quantizer.embedding.weight", E))
    stack("trans_decoder.transformer", cfg["decoder_depth"])
    lin("decoder.0", (emb, emb), emb)
    lin("decoder.2", (bins, emb), emb)
    return out
