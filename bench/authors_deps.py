# SPDX-License-Identifier: LGPL-2.1-or-later
"""Stand-ins for the two third-party packages the authors' models/tfm_token.py
imports, used by tokenizer_vs_authors.py only when they are not installed
(Debian packages neither): `linear_attention_transformer` (lucidrains 0.19.1,
the version the authors pin) and `einops.rearrange`.

The stand-in computes what 0.19.1 computes for the arguments the authors pass
(global non-causal linear attention on every head, pre-norm blocks, a plain
residual sequence, GELU feed-forward of 4x width) with the same module tree
and the same kind of PyTorch ops (linear layers, reshape/transpose head split,
einsum contractions), so timing it times the authors' model as they run it.
Written from the behaviour, not copied from the package."""

import re
import sys
import types

import torch
from torch import nn


def _axes(side):
    """'B (C T) E' -> [['B'], ['C', 'T'], ['E']]"""
    return [(group or axis).split() for group, axis in re.findall(r"\(([^)]*)\)|(\S+)", side)]


def rearrange(x, pattern, **sizes):
    """einops.rearrange for reshape/permute patterns (no ellipsis, no 1s)."""
    left, right = (_axes(s) for s in pattern.split("->"))
    known = dict(sizes)
    for group, n in zip(left, x.shape):
        unknown = [a for a in group if a not in known]
        rest = 1
        for a in group:
            rest *= known.get(a, 1)
        if unknown:
            known[unknown[0]] = n // rest
    names = [a for g in left for a in g]
    x = x.reshape([known[a] for a in names])
    order = [a for g in right for a in g]
    x = x.permute([names.index(a) for a in order])
    out = []
    for g in right:
        n = 1
        for a in g:
            n *= known[a]
        out.append(n)
    return x.reshape(out)


class _SelfAttention(nn.Module):
    def __init__(self, dim, heads, dropout):
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(dim, dim, bias=False)
        self.to_v = nn.Linear(dim, dim, bias=False)
        self.to_out = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        b, t, d = x.shape
        e = d // self.heads
        q, k, v = (f(x).reshape(b, t, self.heads, e).transpose(1, 2) for f in (self.to_q, self.to_k, self.to_v))
        q = q.softmax(dim=-1) * e ** -0.5
        k = k.softmax(dim=-2)
        context = torch.einsum("bhnd,bhne->bhde", k, v)
        attn = torch.einsum("bhnd,bhde->bhne", q, context)
        return self.dropout(self.to_out(attn.transpose(1, 2).reshape(b, t, d)))


class _FeedForward(nn.Module):
    def __init__(self, dim, mult=4):
        super().__init__()
        self.w1 = nn.Linear(dim, dim * mult)
        self.act = nn.GELU()
        self.w2 = nn.Linear(dim * mult, dim)

    def forward(self, x):
        return self.w2(self.act(self.w1(x)))


class _Wrap(nn.Module):
    """PreNorm (norm + fn) or Chunk(1) (fn only): keeps the parameter names."""

    def __init__(self, fn, dim=None):
        super().__init__()
        self.fn = fn
        if dim is not None:
            self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        return self.fn(self.norm(x) if hasattr(self, "norm") else x)


class _Sequence(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.layers = blocks

    def forward(self, x):
        for f, g in self.layers:
            x = x + f(x)
            x = x + g(x)
        return x


class LinearAttentionTransformer(nn.Module):
    def __init__(self, dim, depth, max_seq_len, heads=8, attn_layer_dropout=0.0, attn_dropout=0.0, **_):
        super().__init__()
        self.layers = _Sequence(nn.ModuleList(
            nn.ModuleList([_Wrap(_SelfAttention(dim, heads, attn_layer_dropout), dim),
                           _Wrap(_Wrap(_FeedForward(dim)), dim)]) for _ in range(depth)))

    def forward(self, x):
        return self.layers(x)


def install():
    """Registers the stand-ins for whichever package is missing; returns
    their names."""
    used = []
    try:
        import linear_attention_transformer  # noqa: F401
    except ImportError:
        m = types.ModuleType("linear_attention_transformer")
        m.LinearAttentionTransformer = LinearAttentionTransformer
        sys.modules[m.__name__] = m
        used.append(m.__name__)
    try:
        import einops  # noqa: F401
    except ImportError:
        m = types.ModuleType("einops")
        m.rearrange = rearrange
        sys.modules[m.__name__] = m
        used.append(m.__name__)
    return used
