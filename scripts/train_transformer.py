#!/usr/bin/python3
"""Trains tinycl's byte-level decoder-only transformer on the fortunes collection
that Debian's `fortunes` package ships, writes the held-out split, the weights
(a version-2 weight file, docs/weights.md "Decoder files") and the bits per byte
the script measures on the held-out split.

    /usr/bin/python3 scripts/train_transformer.py [--out data] [--seed 20261122]

Needs Debian's python3-torch and the fortunes package (apt-get install fortunes
python3-torch). Debian's torch multiplies through the system's libblas.so.3; with
the reference BLAS training is about 10x slower than with OpenBLAS, which one run
can use without changing the system's choice:

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=2 \
        /usr/bin/python3 scripts/train_transformer.py

Deterministic: one seed fixes the initial weights and the batch order; the split
depends on nothing random (every 10th fortune is held out).
"""
import argparse
import math
import os
import struct
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# docs/weights.md: header, version-2 layer records, layer types and roles
MAGIC, VERSION = b"TCLW", 2
LINEAR = 1
TOKEN_EMBEDDING, SINUSOIDAL_POSITIONS, LAYERNORM, ATTENTION, GELU = range(11, 16)
ROLE_WEIGHT, ROLE_BIAS, ROLE_GAMMA, ROLE_BETA = 1, 2, 3, 4
DTYPE_F32, QUANT_NONE = 0, 0
GELU_ERF = 1
LN_EPS = 1e-5

SEPARATOR = b"%\n"  # the fortune files' own separator line
HOLD_OUT_EVERY = 10  # fortune i is held out when i % 10 == 9
PREFIXES = (4, 16, None)  # windows the figures are written for: the tests' prefix, tinycl eval's default, all


# ---------------------------------------------------------------- data

def fortune_files(src):
    """The collection's text files (not the .dat indexes, not the .u8 links), by name."""
    names = sorted(n for n in os.listdir(src) if not n.endswith((".dat", ".u8")))
    return [os.path.join(src, n) for n in names if os.path.isfile(os.path.join(src, n))]


def read_fortunes(src):
    """Every fortune of every file, in file-name then file order; each ends with a newline."""
    out = []
    for path in fortune_files(src):
        with open(path, "rb") as f:
            text = f.read()
        for piece in text.split(b"\n%\n"):
            piece = piece.strip(b"\n")
            if piece and piece != b"%":
                out.append(piece + b"\n")
    return out


def split(fortunes):
    """(training bytes, held-out bytes): each fortune followed by the separator line."""
    train = [f for i, f in enumerate(fortunes) if i % HOLD_OUT_EVERY != HOLD_OUT_EVERY - 1]
    held = [f for i, f in enumerate(fortunes) if i % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1]
    return b"".join(f + SEPARATOR for f in train), b"".join(f + SEPARATOR for f in held)


# ---------------------------------------------------------------- model

def sinusoids(n, d):
    """[n, d] positions, computed in float64 and rounded to float32 (as tinycl does)."""
    pos = np.arange(n, dtype=np.float64)[:, None]
    freq = np.power(10000.0, -np.arange(0, d, 2, dtype=np.float64) / d)[None, :]
    pe = np.zeros((n, d), np.float64)
    pe[:, 0::2] = np.sin(pos * freq)
    pe[:, 1::2] = np.cos(pos * freq)
    return torch.from_numpy(pe.astype(np.float32))


class Block(nn.Module):
    def __init__(self, d, heads, d_ff):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d, eps=LN_EPS)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d, eps=LN_EPS)
        self.fc1 = nn.Linear(d, d_ff)
        self.fc2 = nn.Linear(d_ff, d)

    def attention(self, x):
        b, t, d = x.shape
        hd = d // self.heads
        q, k, v = self.qkv(x).split(d, dim=2)  # rows of W: all heads' q, then k, then v
        q, k, v = (z.view(b, t, self.heads, hd).transpose(1, 2) for z in (q, k, v))
        s = (q @ k.transpose(2, 3)) / math.sqrt(hd)
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
        s = s.masked_fill(mask, float("-inf"))
        a = torch.softmax(s, dim=-1) @ v  # [b, heads, t, hd]
        return self.out(a.transpose(1, 2).reshape(b, t, d))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class Decoder(nn.Module):
    def __init__(self, vocab, d, layers, heads, d_ff):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d, heads, d_ff) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d, eps=LN_EPS)
        self.logits = nn.Linear(d, vocab)
        self.d = d

    def forward(self, ids):
        x = self.embed(ids) + sinusoids(ids.shape[1], self.d).to(self.embed.weight.dtype)
        for blk in self.blocks:
            x = blk(x)
        return self.logits(self.ln_f(x))


def init_weights(model):
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            nn.init.zeros_(p)
        elif p.dim() == 2:
            nn.init.normal_(p, 0.0, 0.02)
    for blk in model.blocks:  # GPT-2's scaling of the residual projections
        nn.init.normal_(blk.out.weight, 0.0, 0.02 / math.sqrt(2 * len(model.blocks)))
        nn.init.normal_(blk.fc2.weight, 0.0, 0.02 / math.sqrt(2 * len(model.blocks)))


# ---------------------------------------------------------------- training and evaluation

def batches(data, ctx, batch, steps, gen):
    n = len(data) - ctx - 1
    for _ in range(steps):
        starts = torch.randint(0, n, (batch,), generator=gen)
        idx = starts[:, None] + torch.arange(ctx + 1)[None, :]
        yield data[idx]


def train(model, data, args):
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.01)
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    for step, chunk in enumerate(batches(data, args.ctx, args.batch, args.steps, gen)):
        warm = min(1.0, (step + 1) / args.warmup)
        decay = 0.1 + 0.45 * (1 + math.cos(math.pi * step / args.steps))
        for g in opt.param_groups:
            g["lr"] = args.lr * warm * decay
        logits = model(chunk[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step:5d}  loss {loss.item() / math.log(2):.3f} bits/byte  {time.time() - t0:7.1f} s", flush=True)


@torch.no_grad()
def bits_per_byte(model, data, ctx, windows=None, batch=32):
    """The held-out rule of docs/models.md: windows of ctx input bytes starting at
    0, ctx, 2 ctx, ...; each predicts the ctx bytes that follow its inputs (the
    last window is shorter), so every byte but the first is predicted once.
    Returns (bits per byte, bytes predicted)."""
    n = len(data) - 1
    starts = list(range(0, n, ctx))[:windows]
    bits, count = 0.0, 0
    for i in range(0, len(starts), batch):
        group = starts[i : i + batch]
        t = min(ctx, n - group[-1])  # only the last window can be short
        full = [s for s in group if n - s >= ctx] if t < ctx else group
        for part, w in ((full, ctx), ([group[-1]] if t < ctx else [], t)):
            if not part:
                continue
            idx = torch.tensor(part)[:, None] + torch.arange(w)[None, :]
            logp = torch.log_softmax(model(data[idx]).double(), dim=-1)
            bits -= logp.gather(2, data[idx + 1][..., None]).sum().item() / math.log(2)
            count += len(part) * w
    return bits / count, count


# ---------------------------------------------------------------- weight file

def u32(*v):
    return struct.pack(f"<{len(v)}I", *v)


def tensor_record(role, t):
    t = np.ascontiguousarray(t.detach().cpu().numpy(), dtype="<f4")
    return u32(role, DTYPE_F32, QUANT_NONE, 0, t.ndim, *(list(t.shape) + [0] * (4 - t.ndim))) + t.tobytes()


def layer_record(typ, params, tensors=()):
    return u32(typ, 0, len(params), len(tensors), *params) + b"".join(tensor_record(r, t) for r, t in tensors)


def linear_record(lin):
    return layer_record(LINEAR, [lin.in_features, lin.out_features], [(ROLE_WEIGHT, lin.weight), (ROLE_BIAS, lin.bias)])


def layernorm_record(ln):
    d = ln.normalized_shape[0]
    return layer_record(LAYERNORM, [d], [(ROLE_GAMMA, ln.weight), (ROLE_BETA, ln.bias)])


def write_weights(path, name, model, heads, ctx):
    d, vocab = model.d, model.embed.num_embeddings
    recs = [layer_record(TOKEN_EMBEDDING, [vocab, d], [(ROLE_WEIGHT, model.embed.weight)]),
            layer_record(SINUSOIDAL_POSITIONS, [d])]
    for blk in model.blocks:
        recs += [layernorm_record(blk.ln1),
                 layer_record(ATTENTION, [d, heads], [(ROLE_WEIGHT, blk.qkv.weight), (ROLE_BIAS, blk.qkv.bias)]),
                 linear_record(blk.out),
                 layernorm_record(blk.ln2),
                 linear_record(blk.fc1),
                 layer_record(GELU, [GELU_ERF]),
                 linear_record(blk.fc2)]
    recs += [layernorm_record(model.ln_f), linear_record(model.logits)]
    body = MAGIC + u32(VERSION, len(recs), 1, ctx, 0, 0) + name.encode().ljust(32, b"\0") + b"".join(recs)
    with open(path, "wb") as f:
        f.write(body + u32(zlib.crc32(body) & 0xFFFFFFFF))


def read_weights(path, model):
    """Loads a decoder file written by write_weights into model (same shape)."""
    with open(path, "rb") as f:
        buf = f.read()
    assert buf[:4] == MAGIC and zlib.crc32(buf[:-4]) & 0xFFFFFFFF == struct.unpack("<I", buf[-4:])[0], path
    nrec = struct.unpack_from("<I", buf, 8)[0]
    at, recs = 60, []
    for _ in range(nrec):
        typ, _flags, npar, nten = struct.unpack_from("<4I", buf, at)
        at += 16 + 4 * npar
        tensors = {}
        for _ in range(nten):
            role, _dt, _qm, _qa, ndim, *dims = struct.unpack_from("<9I", buf, at)
            at += 36
            shape = dims[:ndim]
            n = int(np.prod(shape))
            tensors[role] = torch.from_numpy(np.frombuffer(buf, "<f4", n, at).reshape(shape).copy())
            at += 4 * n
        recs.append((typ, tensors))
    params = [model.embed.weight]
    for blk in model.blocks:
        params += [blk.ln1.weight, blk.ln1.bias, blk.qkv.weight, blk.qkv.bias, blk.out.weight, blk.out.bias,
                   blk.ln2.weight, blk.ln2.bias, blk.fc1.weight, blk.fc1.bias, blk.fc2.weight, blk.fc2.bias]
    params += [model.ln_f.weight, model.ln_f.bias, model.logits.weight, model.logits.bias]
    values = [t[r] for _, t in recs for r in sorted(t)]  # weight, bias / gamma, beta: roles in order
    assert len(values) == len(params), path
    with torch.no_grad():
        for p, v in zip(params, values):
            p.copy_(v)


def write_figures(model, held, ctx, out):
    lines = []
    for w in PREFIXES:
        bpb, n = bits_per_byte(model, held, ctx, w)
        lines.append(f"windows {w or 'all'} bytes {n} bpb {bpb:.7f}\n")
        print(f"held-out: {bpb:.7f} bits/byte on {'the first ' + str(w) if w else 'all'} windows ({n} bytes)")
    with open(os.path.join(out, "fortunes_decoder_bpb.txt"), "w") as f:
        f.write("# bits per byte of fortunes_decoder.tcw on fortunes_heldout.txt (PyTorch, f32 forward)\n")
        f.writelines(lines)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", default="/usr/share/games/fortunes")
    ap.add_argument("--out", default="data")
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--ctx", type=int, default=128, help="trained context length")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--figures-only", action="store_true",
                    help="no training: recompute the bits-per-byte file from the weight file in --out")
    args = ap.parse_args()
    torch.set_num_threads(1)  # the BLAS library does the parallel work; two thread pools on two cores fight
    torch.manual_seed(args.seed)

    train_bytes, held_bytes = split(read_fortunes(args.src))
    print(f"fortunes: {len(train_bytes)} training bytes, {len(held_bytes)} held-out bytes")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "fortunes_heldout.txt"), "wb") as f:
        f.write(held_bytes)

    model = Decoder(256, args.d_model, args.layers, args.heads, 4 * args.d_model)
    init_weights(model)
    print(f"parameters: {sum(p.numel() for p in model.parameters())}")
    held = torch.tensor(list(held_bytes), dtype=torch.long)
    weights = os.path.join(args.out, "fortunes_decoder.tcw")
    if args.figures_only:
        read_weights(weights, model)
    else:
        model.train()
        train(model, torch.tensor(list(train_bytes), dtype=torch.long), args)
        write_weights(weights, "fortunes_decoder", model, args.heads, args.ctx)
    model.eval()
    write_figures(model, held, args.ctx, args.out)


if __name__ == "__main__":
    main()
