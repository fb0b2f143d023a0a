#!/usr/bin/env python3
"""Trains the two tinycl example models on the UCI optical digits (8x8) and
writes their weight files and the held-out test split (formats in docs/weights.md).

    python3 scripts/train_digits.py [--out data] [--seed 20261122] [--weights-version 2]

numpy only; scikit-learn is used solely to read the dataset it ships
(sklearn.datasets.load_digits: 1,797 images, 10 classes, no download).
Deterministic: one seed fixes the split, the initial weights and the batch order.
"""
import argparse
import struct
import zlib

import numpy as np
from sklearn.datasets import load_digits

# layer types, tensor roles, dtypes and record layouts: keep in step with docs/weights.md
LINEAR, CONV2D, RELU, SOFTMAX, FLATTEN, GLOBAL_AVGPOOL, MAXPOOL2D, AVGPOOL2D = range(1, 9)
FLAG_RELU = 1
ROLE_WEIGHT, ROLE_BIAS = 1, 2
DTYPE_F32, QUANT_NONE = 0, 0
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

def train(layers, x, y, x_test, y_test, epochs, lr, rng, name):
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
        if (epoch + 1) % 10 == 0:
            print(f"{name}: epoch {epoch + 1:3d}  loss {loss / len(x):.4f}  test {accuracy(layers, x_test, y_test):.2f}%")


def accuracy(layers, x, y):
    return 100.0 * (predict(layers, x) == y).mean()


def predict(layers, x):
    h = x
    for l in layers:
        h = l.forward(h)
    return h.argmax(1)


# ---------------------------------------------------------------- files (docs/weights.md)

def u32(*v):
    return struct.pack(f"<{len(v)}I", *v)


def with_crc(body):
    return body + u32(zlib.crc32(body) & 0xFFFFFFFF)


def write_weights(path, name, in_dims, layers, version):
    recs = [l.record() for l in layers] + [(SOFTMAX, 0, [], [])]
    body = WEIGHTS_MAGIC + u32(version, len(recs), len(in_dims), *(list(in_dims) + [0] * (3 - len(in_dims))))
    body += name.encode().ljust(32, b"\0")
    for typ, flags, params, tensors in recs:
        if version == 1:
            body += u32(typ, flags, *(params + [0] * (6 - len(params))), len(tensors))
        else:
            body += u32(typ, flags, len(params), len(tensors), *params)
        for role, t in zip((ROLE_WEIGHT, ROLE_BIAS), tensors):
            t = np.ascontiguousarray(t, dtype="<f4")
            # version 2: role, dtype and quantization (mode, axis) first; f32 has no scales
            head = u32(role, DTYPE_F32, QUANT_NONE, 0) if version == 2 else b""
            body += head + u32(t.ndim, *(list(t.shape) + [0] * (4 - t.ndim))) + t.tobytes()
    with open(path, "wb") as f:
        f.write(with_crc(body))


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
    a = ap.parse_args()

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
