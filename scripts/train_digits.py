#!/usr/bin/env python3
"""Trains the two tinycl example models on the UCI optical digits (8x8) and
writes their weight files and the held-out test split (formats in docs/weights.md),
then prunes them and fine-tunes the pruned models with their masks.

    python3 scripts/train_digits.py [--out data] [--seed 20261122] [--weights-version 2]
    python3 scripts/train_digits.py --compress-only [--out data]   # the pruned models only

numpy only; scikit-learn is used solely to read the dataset it ships
(sklearn.datasets.load_digits: 1,797 images, 10 classes, no download). The pruned
models start from the f32 models and the splits in --out (mlp_digits.tcw,
cnn_digits.tcw, digits_train.tcd, digits_test.tcd), so --compress-only needs
numpy alone. Deterministic: one seed fixes the split, the initial weights and
the batch order (of fine-tuning too).
"""
import argparse
import struct
import zlib

import numpy as np

# layer types, tensor roles, dtypes and record layouts: keep in step with docs/weights.md
LINEAR, CONV2D, RELU, SOFTMAX, FLATTEN, GLOBAL_AVGPOOL, MAXPOOL2D, AVGPOOL2D = range(1, 9)
PRUNING = 16  # the model-level pruning record (first in a file)
FLAG_RELU = 1
ROLE_WEIGHT, ROLE_BIAS, ROLE_ROW_PTR, ROLE_COL_IDX = 1, 2, 7, 8
DTYPE_F32, DTYPE_S32, QUANT_NONE = 0, 3, 0
WEIGHTS_MAGIC, DATA_MAGIC, DATA_VERSION = b"TCLW", b"TCLD", 1


# ---------------------------------------------------------------- data

def stratified_split(y, test_frac, rng):
    test = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        test.extend(idx[: int(round(len(idx) * test_frac))])
    test = np.sort(np.array(test))
    train = np.setdiff1d(np.arange(len(y)), test)
    return train, test


# ---------------------------------------------------------------- layers (forward + backward)

def im2col(x, k, pad):
    """x [N,C,H,W] -> [N*H*W, C*k*k] for a stride-1 'same' convolution."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((n, c, k, k, h, w), x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i : i + h, j : j + w]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * h * w, c * k * k)


def col2im(cols, shape, k, pad):
    n, c, h, w = shape
    cols = cols.reshape(n, h, w, c, k, k).transpose(0, 3, 4, 5, 1, 2)
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), cols.dtype)
    for i in range(k):
        for j in range(k):
            xp[:, :, i : i + h, j : j + w] += cols[:, :, i, j]
    return xp[:, :, pad : pad + h, pad : pad + w]


class Weighted:
    """A layer with weights w, bias b and an optional fused ReLU."""

    def __init__(self, w_shape, fan_in, rng, relu):
        self.p = {"w": rng.normal(0, np.sqrt(2.0 / fan_in), w_shape), "b": np.zeros(w_shape[0])}
        self.relu = relu

    def activate(self, y):
        if self.relu:
            self.mask = y > 0
            y = y * self.mask
        return y

    def activate_grad(self, g):
        return g * self.mask if self.relu else g


class Linear(Weighted):
    def __init__(self, n_in, n_out, rng, relu):
        super().__init__((n_out, n_in), n_in, rng, relu)

    def forward(self, x):
        self.x = x
        return self.activate(x @ self.p["w"].T + self.p["b"])

    def backward(self, g):
        g = self.activate_grad(g)
        self.g = {"w": g.T @ self.x, "b": g.sum(0)}
        return g @ self.p["w"]

    def record(self):
        w = self.p["w"]
        return (LINEAR, FLAG_RELU if self.relu else 0, [w.shape[1], w.shape[0]], [w, self.p["b"]])


class Conv3x3(Weighted):
    """stride 1, pad 1."""

    def __init__(self, c_in, c_out, rng, relu):
        super().__init__((c_out, c_in, 3, 3), c_in * 9, rng, relu)

    def forward(self, x):
        self.shape = x.shape
        n, _, h, w = x.shape
        k = self.p["w"].shape[0]
        self.cols = im2col(x, 3, 1)
        y = (self.cols @ self.p["w"].reshape(k, -1).T + self.p["b"]).reshape(n, h, w, k).transpose(0, 3, 1, 2)
        return self.activate(y)

    def backward(self, g):
        g = self.activate_grad(g)
        k = self.p["w"].shape[0]
        g2 = g.transpose(0, 2, 3, 1).reshape(-1, k)
        self.g = {"w": (g2.T @ self.cols).reshape(self.p["w"].shape), "b": g2.sum(0)}
        return col2im(g2 @ self.p["w"].reshape(k, -1), self.shape, 3, 1)

    def record(self):
        w = self.p["w"]
        return (CONV2D, FLAG_RELU if self.relu else 0, [w.shape[1], w.shape[0], 3, 3, 1, 1], [w, self.p["b"]])


class MaxPool2:
    p = {}

    def forward(self, x):
        n, c, h, w = x.shape
        xr = x.reshape(n, c, h // 2, 2, w // 2, 2)
        y = xr.max(axis=(3, 5))
        # gradient goes to the first maximum of each window, as argmax would pick
        flat = xr.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
        self.onehot = np.eye(4, dtype=x.dtype)[flat.argmax(-1)]
        self.shape = x.shape
        return y

    def backward(self, g):
        n, c, h, w = self.shape
        gx = self.onehot * g[..., None]
        return gx.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(self.shape)

    def record(self):
        return (MAXPOOL2D, 0, [2, 2, 2, 0], [])


class Flatten:
    p = {}

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, g):
        return g.reshape(self.shape)

    def record(self):
        return (FLATTEN, 0, [], [])


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


# ---------------------------------------------------------------- training

def train(layers, x, y, x_test, y_test, epochs, lr, rng, name, masks=None):
    """Adam on cross-entropy; with masks ({layer index: 0/1 array of its weight's shape})
    the masked weights stay 0 after every step (masked fine-tuning)."""
    adam = [{k: (np.zeros_like(v), np.zeros_like(v)) for k, v in l.p.items()} for l in layers]
    b1, b2, eps, t = 0.9, 0.999, 1e-8, 0
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        loss = 0.0
        for i in range(0, len(x), 32):
            idx = order[i : i + 32]
            h = x[idx]
            for l in layers:
                h = l.forward(h)
            p = softmax(h)
            loss -= np.log(p[np.arange(len(idx)), y[idx]] + 1e-12).sum()
            g = p.copy()
            g[np.arange(len(idx)), y[idx]] -= 1
            g /= len(idx)
            for l in reversed(layers):
                g = l.backward(g)
            t += 1
            for l, st in zip(layers, adam):
                for k in l.p:
                    m, v = st[k]
                    m[:] = b1 * m + (1 - b1) * l.g[k]
                    v[:] = b2 * v + (1 - b2) * l.g[k] ** 2
                    l.p[k] -= lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
            for i, mask in (masks or {}).items():
                layers[i].p["w"] *= mask
        if (epoch + 1) % 10 == 0:
            print(f"{name}: epoch {epoch + 1:3d}  loss {loss / len(x):.4f}  test {accuracy(layers, x_test, y_test):.2f}%")


def accuracy(layers, x, y):
    return 100.0 * (predict(layers, x) == y).mean()


def predict(layers, x):
    h = x
    for l in layers:
        h = l.forward(h)
    return h.argmax(1)


# ---------------------------------------------------------------- pruning (tinycl's rules, include/tinycl/sparse.h)

def n_pruned(fraction, units):
    """round(fraction * units), halves away from zero, as tinycl rounds."""
    return int(np.floor(fraction * units + 0.5))


def lowest(scores, k):
    """A mask of the k units of lowest score; among equal scores the lower index goes first."""
    cut = np.zeros(len(scores), bool)
    cut[np.lexsort((np.arange(len(scores)), scores))[:k]] = True
    return cut


def magnitude_masks(weights, sparsity, global_):
    """Keep-masks (1.0 kept, 0.0 pruned) of magnitude pruning: each weight to `sparsity`,
    or one threshold over all of them (units counted over all, ties broken by tensor
    order, then index). Scores are |w| of the f32 weights, what tinycl compares."""
    scores = [np.abs(np.asarray(w, np.float32)).ravel() for w in weights]
    if global_:
        allc = np.concatenate(scores)
        cut = np.split(lowest(allc, n_pruned(sparsity, len(allc))), np.cumsum([len(c) for c in scores])[:-1])
    else:
        cut = [lowest(c, n_pruned(sparsity, len(c))) for c in scores]
    return [(~c).astype(np.float64).reshape(np.shape(w)) for c, w in zip(cut, weights)]


def weighted(layers):
    return [i for i, l in enumerate(layers) if isinstance(l, Weighted)]


def prune_structured(layers, sparsity):
    """Removes round(sparsity * out) output channels (at least one stays) of smallest L2
    norm from every weight layer but the last, with their biases and the next weight
    layer's inputs (H x W inputs per channel after a flatten)."""
    idx = weighted(layers)
    for a, b in zip(idx, idx[1:]):
        la, lb = layers[a], layers[b]
        w = np.asarray(la.p["w"], np.float32).reshape(len(la.p["w"]), -1).astype(np.float64)
        out = len(w)
        cut = lowest((w * w).sum(1).astype(np.float32), min(n_pruned(sparsity, out), out - 1))
        kept = np.flatnonzero(~cut)
        la.p["w"], la.p["b"] = la.p["w"][kept], la.p["b"][kept]
        wb = lb.p["w"]
        if isinstance(lb, Linear):
            lb.p["w"] = wb.reshape(len(wb), out, -1)[:, kept].reshape(len(wb), -1)
        else:
            lb.p["w"] = wb[:, kept]


def weight_count(layers):
    return sum(layers[i].p["w"].size for i in weighted(layers))


def f32_accuracy(layers, x, y):
    """Test accuracy with the weights rounded to f32 (in place), as they are written."""
    for l in layers:
        for k in l.p:
            l.p[k] = l.p[k].astype(np.float32)
    return 100.0 * (predict(layers, x.astype(np.float32)) == y).mean()


def prune(layers, structured, sparsity, global_):
    """Prunes layers in place; the keep-masks of unstructured pruning ({layer index: mask}) or None."""
    if structured:
        prune_structured(layers, sparsity)
        return None
    idx = weighted(layers)
    masks = dict(zip(idx, magnitude_masks([layers[i].p["w"] for i in idx], sparsity, global_)))
    for i, m in masks.items():
        layers[i].p["w"] = layers[i].p["w"] * m
    return masks


def compress(a):
    """The pruned models, from the f32 models and the splits in a.out: pruned once (the
    accuracy without fine-tuning), then pruned again from the start and fine-tuned with
    the masks fixed. Unstructured pruning is gradual: the sparsity rises as
    s (1 - (1 - t/T)^3) over T steps, each pruning the fine-tuned weights of the step
    before (its zeros count as pruned) and fine-tuning; structured pruning is one step."""
    x_tr, y_tr = read_data(f"{a.out}/digits_train.tcd")
    x_te, y_te = read_data(f"{a.out}/digits_test.tcd")
    x_tr, x_te = x_tr.astype(np.float64), x_te.astype(np.float64)
    rng = np.random.default_rng(a.seed)
    jobs = (("mlp", False, a.mlp_sparsity), ("mlp", True, a.mlp_structured),
            ("cnn", False, a.cnn_sparsity), ("cnn", True, a.cnn_structured))
    for base, structured, sparsity in jobs:
        path, kind = f"{a.out}/{base}_digits.tcw", "structured" if structured else "pruned"
        global_ = not structured and base in a.global_for.split(",")
        xs, xt = (x_tr.reshape(-1, 64), x_te.reshape(-1, 64)) if base == "mlp" else (x_tr, x_te)
        name, in_dims, layers = read_weights(path)
        original = weight_count(layers)
        before = f32_accuracy(read_weights(path)[2], xt, y_te)
        one_shot = read_weights(path)[2]
        prune(one_shot, structured, sparsity, global_)
        pruned = f32_accuracy(one_shot, xt, y_te)
        steps = [sparsity] if structured else [sparsity * (1 - (1 - t / a.prune_steps) ** 3)
                                               for t in range(1, a.prune_steps + 1)]
        for st in steps:
            masks = prune(layers, structured, st, global_)
            train(layers, xs, y_tr, xt, y_te, a.finetune_epochs, a.finetune_lr, rng, f"{base}_{kind} {100 * st:.1f}%",
                  masks)
        tuned = f32_accuracy(layers, xt, y_te)
        correct = int(round(tuned * len(y_te) / 100.0))
        left = sum(np.count_nonzero(layers[i].p["w"]) for i in weighted(layers))
        write_weights(f"{a.out}/{base}_digits_{kind}.tcw", f"{name}_{kind}", in_dims, layers, 2, (structured, original))
        how = "structured" if structured else "unstructured, " + ("global" if global_ else "per layer")
        print(f"{base}_digits_{kind}: {how} {100 * sparsity:g}%: {left} of {original} weights left "
              f"({100.0 * (1 - left / original):.2f}% zero or removed); numpy f32 test accuracy {before:.2f}% -> "
              f"{pruned:.2f}% pruned once -> {tuned:.2f}% ({correct}/{len(y_te)}) fine-tuned")


# ---------------------------------------------------------------- files (docs/weights.md)

def u32(*v):
    return struct.pack(f"<{len(v)}I", *v)


def with_crc(body):
    return body + u32(zlib.crc32(body) & 0xFFFFFFFF)


def csr_of(w):
    """A weight read as [rows, cols] in CSR (its non-zero f32 values, column indices
    and row pointers) when that record is smaller than the dense one, as tinycl's
    writer chooses (docs/weights.md); else None."""
    w2 = np.asarray(w, dtype=np.float32).reshape(len(w), -1)
    rows, nnz = len(w2), int(np.count_nonzero(w2))
    if nnz == 0 or 3 * 36 + 8 * nnz + 4 * (rows + 1) >= 36 + 4 * w2.size:
        return None
    r, c = np.nonzero(w2)  # row-major order: rows ascending, columns ascending within a row
    row_ptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=rows))])
    return w2[r, c], c, row_ptr


def write_weights(path, name, in_dims, layers, version, prune=None):
    """prune: None, or (structured, original weight count) for the pruning record
    (version 2); version 2 then writes each weight dense or in CSR, whichever is smaller."""
    recs = [l.record() for l in layers] + [(SOFTMAX, 0, [], [])]
    if prune is not None:
        original = int(prune[1])
        recs.insert(0, (PRUNING, 0, [int(prune[0]), original & 0x7FFFFFFF, original >> 31], []))
    body = WEIGHTS_MAGIC + u32(version, len(recs), len(in_dims), *(list(in_dims) + [0] * (3 - len(in_dims))))
    body += name.encode().ljust(32, b"\0")
    for typ, flags, params, tensors in recs:
        csr = csr_of(tensors[0]) if prune is not None and typ in (LINEAR, CONV2D) else None
        tensors = list(zip((ROLE_WEIGHT, ROLE_BIAS), tensors))
        if csr is not None:  # the values as the weight, then the bias, row pointers and column indices
            tensors = [(ROLE_WEIGHT, csr[0])] + tensors[1:] + [(ROLE_ROW_PTR, csr[2]), (ROLE_COL_IDX, csr[1])]
        if version == 1:
            body += u32(typ, flags, *(params + [0] * (6 - len(params))), len(tensors))
        else:
            body += u32(typ, flags, len(params), len(tensors), *params)
        for role, t in tensors:
            s32 = role in (ROLE_ROW_PTR, ROLE_COL_IDX)
            t = np.ascontiguousarray(t, dtype="<i4" if s32 else "<f4")
            # version 2: role, dtype and quantization (mode, axis) first; f32 has no scales
            head = u32(role, DTYPE_S32 if s32 else DTYPE_F32, QUANT_NONE, 0) if version == 2 else b""
            body += head + u32(t.ndim, *(list(t.shape) + [0] * (4 - t.ndim))) + t.tobytes()
    with open(path, "wb") as f:
        f.write(with_crc(body))


def read_weights(path):
    """(name, input dims, layers) of a dense f32 model file of version 1 or 2 as
    this script writes them (the trailing softmax dropped)."""
    with open(path, "rb") as f:
        b = f.read()
    if b[:4] != WEIGHTS_MAGIC or zlib.crc32(b[:-4]) & 0xFFFFFFFF != struct.unpack_from("<I", b, len(b) - 4)[0]:
        raise ValueError(f"{path}: not a weight file, or damaged")
    version, nlayers, in_ndim, *in_dims = struct.unpack_from("<6I", b, 4)
    name = b[28:60].split(b"\0")[0].decode()
    at, layers, dummy = 60, [], np.random.default_rng(0)
    for _ in range(nlayers):
        if version == 1:
            typ, flags, *params, nt = struct.unpack_from("<9I", b, at)
            at += 36
        else:
            typ, flags, np_, nt = struct.unpack_from("<4I", b, at)
            params = list(struct.unpack_from(f"<{np_}I", b, at + 16))
            at += 16 + 4 * np_
        tensors = []
        for _ in range(nt):
            if version == 2:
                role, dtype, qmode, _ = struct.unpack_from("<4I", b, at)
                if dtype != DTYPE_F32 or qmode != QUANT_NONE:
                    raise ValueError(f"{path}: dense f32 models only")
                at += 16
            ndim, *dims = struct.unpack_from("<5I", b, at)
            shape = dims[:ndim]
            n = int(np.prod(shape))
            tensors.append(np.frombuffer(b, "<f4", n, at + 20).reshape(shape).astype(np.float64))
            at += 20 + 4 * n
        relu = bool(flags & FLAG_RELU)
        if typ == LINEAR:
            layer = Linear(params[0], params[1], dummy, relu)
        elif typ == CONV2D:
            layer = Conv3x3(params[0], params[1], dummy, relu)
        elif typ == MAXPOOL2D:
            layer = MaxPool2()
        elif typ == FLATTEN:
            layer = Flatten()
        elif typ == SOFTMAX:
            continue
        else:
            raise ValueError(f"{path}: layer type {typ} is not one this script trains")
        for k, t in zip(("w", "b"), tensors):
            layer.p[k] = t
        layers.append(layer)
    return name, in_dims[:in_ndim], layers


def read_data(path):
    """(images, labels) of a .tcd file."""
    with open(path, "rb") as f:
        b = f.read()
    _, n, _, ndim, *dims = struct.unpack_from("<7I", b, 4)
    shape = [n] + dims[:ndim]
    images = np.frombuffer(b, "<f4", int(np.prod(shape)), 32).reshape(shape)
    labels = np.frombuffer(b, "<i4", n, 32 + 4 * images.size)
    return images, labels


def write_data(path, images, labels, classes):
    n = images.shape[0]
    dims = list(images.shape[1:])
    body = DATA_MAGIC + u32(DATA_VERSION, n, classes, len(dims), *(dims + [0] * (3 - len(dims))))
    body += np.ascontiguousarray(images, dtype="<f4").tobytes() + np.ascontiguousarray(labels, dtype="<i4").tobytes()
    with open(path, "wb") as f:
        f.write(with_crc(body))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="data")
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--weights-version", type=int, choices=(1, 2), default=2, help=".tcw version to write")
    ap.add_argument("--compress-only", action="store_true", help="only prune and fine-tune the models in --out")
    ap.add_argument("--mlp-sparsity", type=float, default=0.9, help="mlp_digits_pruned: fraction of weights pruned")
    ap.add_argument("--cnn-sparsity", type=float, default=0.9, help="cnn_digits_pruned: fraction of weights pruned")
    ap.add_argument("--mlp-structured", type=float, default=0.5,
                    help="mlp_digits_structured: fraction of each hidden layer's neurons removed")
    ap.add_argument("--cnn-structured", type=float, default=0.5,
                    help="cnn_digits_structured: fraction of each conv layer's filters removed")
    ap.add_argument("--global-for", default="cnn", choices=("none", "mlp", "cnn", "mlp,cnn"),
                    help="the unstructured models pruned with one magnitude threshold across layers (else per layer)")
    ap.add_argument("--prune-steps", type=int, default=3, help="unstructured: pruning steps up to the sparsity")
    ap.add_argument("--finetune-epochs", type=int, default=40, help="fine-tuning epochs after each pruning step")
    ap.add_argument("--finetune-lr", type=float, default=1e-3)
    a = ap.parse_args()
    if not a.compress_only:
        train_models(a)
    compress(a)


def train_models(a):
    from sklearn.datasets import load_digits  # only to read the dataset it ships

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)  # [1797, 8, 8] in [0, 1]
    labels = digits.target.astype(np.int32)
    rng = np.random.default_rng(a.seed)
    tr, te = stratified_split(labels, 0.2, rng)
    print(f"split: {len(tr)} train, {len(te)} test (seed {a.seed})")

    # float64 training; the f32 weights written are what the accuracy below is measured on
    x_tr, x_te = images[tr].astype(np.float64), images[te].astype(np.float64)
    y_tr, y_te = labels[tr], labels[te]

    mlp = [Linear(64, 128, rng, True), Linear(128, 64, rng, True), Linear(64, 10, rng, False)]
    train(mlp, x_tr.reshape(-1, 64), y_tr, x_te.reshape(-1, 64), y_te, a.epochs, 1e-3, rng, "mlp")

    cnn = [Conv3x3(1, 16, rng, True), MaxPool2(), Conv3x3(16, 32, rng, True), MaxPool2(), Flatten(),
           Linear(128, 10, rng, False)]
    train(cnn, x_tr[:, None], y_tr, x_te[:, None], y_te, a.epochs, 1e-3, rng, "cnn")

    for name, layers, x in (("mlp_digits", mlp, x_te.reshape(-1, 64)), ("cnn_digits", cnn, x_te[:, None])):
        for l in layers:
            for k in l.p:
                l.p[k] = l.p[k].astype(np.float32)
        pred = predict(layers, x.astype(np.float32))
        correct = int((pred == y_te).sum())
        write_weights(f"{a.out}/{name}.tcw", name, [64] if name.startswith("mlp") else [1, 8, 8], layers,
                      a.weights_version)
        print(f"{name}: numpy f32 test accuracy {100.0 * correct / len(y_te):.2f}% ({correct}/{len(y_te)})")
    write_data(f"{a.out}/digits_test.tcd", images[te][:, None], y_te, 10)
    # the training images: calibration data for quantizing the models (never the test split)
    write_data(f"{a.out}/digits_train.tcd", images[tr][:, None], y_tr, 10)


if __name__ == "__main__":
    main()
