#!/usr/bin/python3
"""PyTorch peer of `crossdistill bench`: the same cases (bench/cases/*.json), the same JSON lines.

Run with Debian's interpreter, which has python3-torch:
    /usr/bin/python3 bench/peer/pytorch_bench.py {gemm,conv,ops,train-step} [--threads 2] [--quick] [--case NAME]... [--list]
"""
import argparse
import ctypes
import gc
import json
import math
import os
import statistics
import sys
import time

import torch

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cases")


def median_seconds(fn, quick):
    """Warm-up, then the median of timed samples; mirrors CrossDistill.Bench.Timing."""
    warmup_s, sample_s, samples = (0.05, 0.02, 3) if quick else (0.3, 0.1, 9)
    start = time.perf_counter()
    calls = 0
    while calls < 2 or time.perf_counter() - start < warmup_s:
        fn()
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    reps = max(1, int(-(-sample_s // per_call)))
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        times.append((time.perf_counter() - t0) / reps)
    return statistics.median(times)


def rounded(value):
    """Two decimals, but three significant digits below 1 (a tiny op's GB/s would otherwise print as 0.0); as BenchResult.ToJson."""
    if value == 0 or abs(value) >= 1:
        return round(value, 2)
    return round(value, max(2, 2 - int(math.floor(math.log10(abs(value))))))


def gemm_shape(case):
    shape = f"{case['m']}x{case['n']}x{case['k']}"
    if case.get("transA"):
        shape += ",tA"
    if case.get("transB"):
        shape += ",tB"
    if case.get("batch", 1) > 1:
        shape += f",b{case['batch']}"
    return shape


def gemm_cases():
    with open(os.path.join(CASES, "gemm.json")) as f:
        return json.load(f)["cases"]


def gemm_suite(quick, selected):
    gen = torch.Generator().manual_seed(0)
    for case in gemm_cases():
        if selected and case["name"] not in selected:
            continue
        m, n, k, batch = case["m"], case["n"], case["k"], case.get("batch", 1)
        # Stored as the engine stores them: a transposed operand is a transposed view of a contiguous tensor.
        def operand(rows, cols, transposed):
            shape = (batch, cols, rows) if transposed else (batch, rows, cols)
            t = torch.rand(shape, generator=gen) * 2 - 1
            t = t.transpose(1, 2) if transposed else t
            return t if batch > 1 else t[0]
        a = operand(m, k, case.get("transA", False))
        b = operand(k, n, case.get("transB", False))
        c = torch.empty((batch, m, n) if batch > 1 else (m, n))
        if batch > 1:
            fn = lambda: torch.bmm(a, b, out=c)
        else:
            fn = lambda: torch.mm(a, b, out=c)
        seconds = median_seconds(fn, quick)
        yield {"suite": "gemm", "name": case["name"], "shape": gemm_shape(case), "metric": "throughput",
               "value": round(2.0 * m * n * k * batch / seconds / 1e9, 2), "unit": "GFLOP/s"}


def conv_cases():
    with open(os.path.join(CASES, "conv.json")) as f:
        return json.load(f)["cases"]


def conv_shape(case):
    shape = (f"{case['n']}x{case['cin']}x{case['size']}x{case['size']},o{case['cout']},k{case['kernel']},"
             f"s{case['stride']},p{case['padding']}")
    if case.get("groups", 1) > 1:
        shape += f",g{case['groups']}"
    if case.get("bias", False):
        shape += ",bias"
    if case.get("input", "channels_last") == "nchw":
        shape += ",nchw"
    return shape


def retained_backward(output, inputs, grad_output):
    """One backward of a retained graph through autograd.grad: only `inputs`' gradients are computed."""
    return lambda: torch.autograd.grad(output, inputs, grad_output, retain_graph=True)


def conv_suite(quick, selected):
    """Forward, grad wrt input and grad wrt weight of one conv, as a channels_last model runs it."""
    gen = torch.Generator().manual_seed(0)
    cl = torch.channels_last
    for case in conv_cases():
        if selected and case["name"] not in selected:
            continue
        n, cin, size, cout, k = case["n"], case["cin"], case["size"], case["cout"], case["kernel"]
        stride, padding, groups = case["stride"], case["padding"], case.get("groups", 1)
        out = (size + 2 * padding - k) // stride + 1
        flops = 2.0 * n * cout * out * out * (cin // groups) * k * k
        image = torch.randn(n, cin, size, size, generator=gen)
        # A stem reads the NCHW image batch; every later layer gets a channels-last activation.
        x = image if case.get("input", "channels_last") == "nchw" else image.contiguous(memory_format=cl)
        # model.to(memory_format=channels_last) stores 4-d weights channels-last, so PyTorch picks its channels-last kernels.
        weight = (torch.randn(cout, cin // groups, k, k, generator=gen) * 0.1).contiguous(memory_format=cl)
        bias = torch.randn(cout, generator=gen) if case.get("bias", False) else None
        grad_output = torch.randn(n, cout, out, out, generator=gen).contiguous(memory_format=cl)
        conv = lambda a, w: torch.nn.functional.conv2d(a, w, bias, stride, padding, 1, groups)

        def forward():
            with torch.no_grad():
                conv(x, weight)

        x_req = x.detach().requires_grad_(True)
        y_x = conv(x_req, weight)
        w_req = weight.detach().requires_grad_(True)
        y_w = conv(x, w_req)
        timings = [("forward", median_seconds(forward, quick)),
                   ("backward_input", median_seconds(retained_backward(y_x, x_req, grad_output), quick)),
                   ("backward_weight", median_seconds(retained_backward(y_w, w_req, grad_output), quick))]
        for metric, seconds in timings:
            common = {"suite": "conv", "name": case["name"], "shape": conv_shape(case)}
            yield dict(common, metric=metric, value=rounded(flops / seconds / 1e9), unit="GFLOP/s")
            yield dict(common, metric=metric + "_ms", value=rounded(seconds * 1e3), unit="ms")
        del y_x, y_w


def ops_cases():
    with open(os.path.join(CASES, "ops.json")) as f:
        return json.load(f)["cases"]


def ops_shape(case):
    shape = "x".join(map(str, case["shape"]))
    if case.get("other"):
        shape += "+" + "x".join(map(str, case["other"]))
    if case.get("layout") == "channels_last":
        shape += ",cl"
    if case["op"] in ("softmax", "sum"):
        shape += f",dim{case.get('dim', -1)}"
    return shape


def numel(shape):
    count = 1
    for d in shape:
        count *= d
    return count


def ops_suite(quick, selected):
    """The memory-bound ops; bytes counted as in OpsSuite.cs (compulsory traffic, 4 bytes a float)."""
    F = torch.nn.functional
    for case in ops_cases():
        if selected and case["name"] not in selected:
            continue
        passes = case["passes"]
        op = case["op"]
        results = []
        if op in ("adamw", "sgd"):
            torch.manual_seed(0)
            model = train_step_model(case["model"], case.get("classes", 100), case.get("imageSize", 32))
            params = list(model.parameters())
            gen = torch.Generator().manual_seed(1)
            for p in params:
                p.grad = torch.randn(p.shape, generator=gen) * 1e-3
            # PyTorch 1.13's defaults (foreach off): what a training script gets.
            optimizer = (torch.optim.AdamW(params, lr=1e-3, weight_decay=0.05) if op == "adamw"
                         else torch.optim.SGD(params, lr=0.01, momentum=0.9))
            count = sum(p.numel() for p in params)
            shape = f"{count}p,{len(params)}t"
            seconds = median_seconds(optimizer.step, quick)
            results.append(("step", 4.0 * (7 if op == "adamw" else 5) * count, seconds))
        else:
            gen = torch.Generator().manual_seed(0)
            shape = ops_shape(case)
            dims = case["shape"]

            def make(shape_):
                t = torch.randn(shape_, generator=gen)
                if case.get("layout") == "channels_last" and len(shape_) == 4 and sum(d > 1 for d in shape_) >= 2:
                    t = t.contiguous(memory_format=torch.channels_last)
                return t

            n = numel(dims)
            channels = dims[1] if len(dims) > 1 else 1
            features = dims[-1]
            x = make(dims)
            other = make(case["other"]) if case.get("other") else None
            width = features if op == "layer_norm" else channels
            weight = 1 + 0.1 * torch.randn(width, generator=gen)
            bias = 0.1 * torch.randn(width, generator=gen)
            running_mean, running_var = torch.zeros(channels), torch.ones(channels)
            labels = torch.randint(0, features, (dims[0],), generator=gen)
            dim = case.get("dim", -1)
            forwards = {
                "add": lambda a, w, b: torch.add(a, other),
                "mul": lambda a, w, b: torch.mul(a, other),
                "relu": lambda a, w, b: F.relu(a),
                "gelu": lambda a, w, b: F.gelu(a),
                "batch_norm": lambda a, w, b: F.batch_norm(a, running_mean, running_var, w, b, training=True),
                "layer_norm": lambda a, w, b: F.layer_norm(a, (features,), w, b, 1e-6),
                "softmax": lambda a, w, b: torch.softmax(a, dim),
                "cross_entropy": lambda a, w, b: F.cross_entropy(a, labels),
                "sum": lambda a, w, b: torch.sum(a, dim),
            }
            forward = forwards[op]
            for pass_ in passes:
                if pass_ == "forward":
                    def timed():
                        with torch.no_grad():
                            forward(x, weight, bias)
                    if op in ("add", "mul"):
                        moved = n + numel(case["other"]) + n
                    elif op == "sum":
                        moved = n + n // dims[dim]
                    else:
                        moved = 2 * n
                    results.append((pass_, 4.0 * moved, median_seconds(timed, quick)))
                elif pass_ == "backward":
                    # A training step needs the gradients of the input and of the norms' affine parameters.
                    affine = op in ("batch_norm", "layer_norm")
                    x_req = x.detach().requires_grad_(True)
                    w_req = weight.detach().requires_grad_(True) if affine else weight
                    b_req = bias.detach().requires_grad_(True) if affine else bias
                    trainable = [x_req, w_req, b_req] if affine else [x_req]
                    y = forward(x_req, w_req, b_req)
                    grad_output = torch.randn(y.shape, generator=gen)
                    if y.dim() == 4 and y.is_contiguous(memory_format=torch.channels_last) and not y.is_contiguous():
                        grad_output = grad_output.contiguous(memory_format=torch.channels_last)
                    results.append((pass_, 4.0 * 3 * n, median_seconds(retained_backward(y, trainable, grad_output), quick)))
                elif pass_ == "forward_backward":
                    logits = x.detach().requires_grad_(True)
                    timed = lambda: torch.autograd.grad(forward(logits, weight, bias), logits)
                    results.append((pass_, 4.0 * 2 * n + 8.0 * dims[0], median_seconds(timed, quick)))
                else:
                    raise ValueError(f"ops: case {case['name']}: unknown pass {pass_}")
        for metric, moved, seconds in results:
            common = {"suite": "ops", "name": case["name"], "shape": shape}
            yield dict(common, metric=metric, value=rounded(moved / seconds / 1e9), unit="GB/s")
            yield dict(common, metric=metric + "_ms", value=rounded(seconds * 1e3), unit="ms")


def train_step_settings():
    with open(os.path.join(CASES, "train-step.json")) as f:
        return json.load(f)


class VitBlock(torch.nn.Module):
    """timm's pre-norm block (LayerNorm eps 1e-6, fused qkv with bias, exact GELU, mlp 4x), as the engine's."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = torch.nn.LayerNorm(dim, eps=1e-6)
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.proj = torch.nn.Linear(dim, dim)
        self.norm2 = torch.nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = torch.nn.Linear(dim, 4 * dim)
        self.fc2 = torch.nn.Linear(4 * dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        # PyTorch 1.13 has no scaled_dot_product_attention: the explicit form timm also falls back to.
        attn = (q @ k.transpose(-2, -1) * (c // self.heads) ** -0.5).softmax(dim=-1)
        x = x + self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))
        return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.norm2(x))))


class VitTiny(torch.nn.Module):
    """ViT-Tiny for 32x32 (patch 4, dim 192, depth 12, 3 heads, cls token, learned positions, final norm)."""

    def __init__(self, classes, image_size, patch=4, dim=192, depth=12, heads=3):
        super().__init__()
        tokens = (image_size // patch) ** 2 + 1
        self.patch_embed = torch.nn.Conv2d(3, dim, patch, stride=patch)
        self.cls_token = torch.nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = torch.nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        self.blocks = torch.nn.Sequential(*[VitBlock(dim, heads) for _ in range(depth)])
        self.norm = torch.nn.LayerNorm(dim, eps=1e-6)
        self.head = torch.nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


def train_step_model(name, classes, image_size):
    import torchvision  # already imported by train_step_suite, before the memory baseline
    if name == "resnet18_cifar":
        model = torchvision.models.resnet18(num_classes=classes)
        model.conv1 = torch.nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        model.maxpool = torch.nn.Identity()
        return model
    if name == "mobilenet_v2":
        return torchvision.models.mobilenet_v2(num_classes=classes)
    if name == "vit_tiny_p4_32":
        return VitTiny(classes, image_size)
    raise ValueError(f"train-step: no PyTorch peer for model {name}")


def proc_status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def release_freed_memory():
    """Hands memory glibc kept from an earlier case back to the OS, so this case's baseline is not inflated by it."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def reset_peak_rss():
    """Resets VmHWM to the current RSS (Linux >= 4.0); returns False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def train_step_suite(quick, selected):
    # Imported here, before any baseline is read: its ~38 MiB of code and data are not the step's memory.
    import torchvision  # noqa: F401
    settings = train_step_settings()
    warmup, timed = (1, 2) if quick else (settings["warmupSteps"], settings["timedSteps"])
    for case in settings["cases"]:
        if selected and case["name"] not in selected:
            continue
        batch, size, classes = case["batch"], case["imageSize"], case["classes"]
        torch.manual_seed(0)
        release_freed_memory()
        # The process's resident memory before anything of this case exists: the peak is measured from here.
        baseline_kib = proc_status_kib("VmRSS")
        model = train_step_model(case["model"], classes, size).train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        images = torch.randn(batch, 3, size, size)
        labels = torch.randint(0, classes, (batch,))

        def step():
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()

        for _ in range(warmup):
            step()
        reset_peak_rss()
        start = time.perf_counter()
        for _ in range(timed):
            step()
        seconds = time.perf_counter() - start
        peak_kib = proc_status_kib("VmHWM") - baseline_kib
        shape = f"{batch}x3x{size}x{size},c{classes}"
        yield {"suite": "train-step", "name": case["name"], "shape": shape, "metric": "throughput",
               "value": round(batch * timed / seconds, 2), "unit": "img/s"}
        yield {"suite": "train-step", "name": case["name"], "shape": shape, "metric": "peak_memory",
               "value": round(peak_kib / 1024.0, 2), "unit": "MiB"}
        del model, optimizer, images, labels


# suite name -> (case names, runner)
SUITES = {"gemm": (lambda: [c["name"] for c in gemm_cases()], gemm_suite),
          "conv": (lambda: [c["name"] for c in conv_cases()], conv_suite),
          "ops": (lambda: [c["name"] for c in ops_cases()], ops_suite),
          "train-step": (lambda: [c["name"] for c in train_step_settings()["cases"]], train_step_suite)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite", choices=sorted(SUITES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--case", action="append", default=[], help="run only this case (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the case names and exit")
    args = parser.parse_args()
    names, run = SUITES[args.suite]
    if args.list:
        print("\n".join(names()))
        return 0
    unknown = [c for c in args.case if c not in names()]
    if unknown:
        parser.error(f"suite {args.suite} has no case {', '.join(unknown)}")
    torch.set_num_threads(args.threads)
    for result in run(args.quick, set(args.case)):
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
