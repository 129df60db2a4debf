using CrossDistill.Engine.Kernels;

namespace CrossDistill.Engine;

public static unsafe partial class F
{
    /// <summary>
    /// torch.nn.functional.scaled_dot_product_attention without dropout:
    /// softmax(q·kᵀ·scale + mask)·v for q (…, L, E), k (…, S, E) and v (…, S, Ev), whose batch dims
    /// broadcast. <paramref name="attnMask"/> is an additive float mask broadcast to (…, L, S);
    /// <paramref name="isCausal"/> keeps key j ≤ query i (the top-left aligned triangle); the default
    /// scale is 1/√E. Two batched GEMMs around a fused row softmax; the backward is fused likewise.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor? attnMask = null, bool isCausal = false, float? scale = null)
    {
        string shapes = $"q {ShapeUtil.Format(q.Shape)}, k {ShapeUtil.Format(k.Shape)}, v {ShapeUtil.Format(v.Shape)}";
        if (q.Rank < 2 || k.Rank < 2 || v.Rank < 2)
            throw new ArgumentException($"ScaledDotProductAttention: q, k and v need at least 2 dims (…, L, E), got {shapes}.");
        if (k.Shape[^1] != q.Shape[^1])
            throw new ArgumentException($"ScaledDotProductAttention: q and k must have the same embedding size, got {shapes}.");
        if (v.Shape[^2] != k.Shape[^2])
            throw new ArgumentException($"ScaledDotProductAttention: k and v must have the same sequence length, got {shapes}.");
        if (attnMask is not null && isCausal)
            throw new ArgumentException("ScaledDotProductAttention: pass either attnMask or isCausal, not both.");
        if (attnMask is not null && attnMask.DType != DType.Float32)
            throw new ArgumentException($"ScaledDotProductAttention: attnMask must be an additive float mask, got {attnMask.DType}.");
        int l = q.Shape[^2], e = q.Shape[^1], s = k.Shape[^2], ev = v.Shape[^1];
        int[] batch;
        try
        {
            batch = ShapeUtil.Broadcast(q.Shape.AsSpan(0, q.Rank - 2), ShapeUtil.Broadcast(k.Shape.AsSpan(0, k.Rank - 2), v.Shape.AsSpan(0, v.Rank - 2)));
        }
        catch (ArgumentException ex) { throw new ArgumentException($"ScaledDotProductAttention: the batch dims of {shapes} do not broadcast. {ex.Message}"); }
        int batchCount = ShapeUtil.Numel(batch);
        float alpha = scale ?? 1f / MathF.Sqrt(e);

        var probs = Tensor.Empty([.. batch, l, s]);
        using (var kd = k.Detach())
        using (var kt = kd.Transpose(-1, -2))
            BatchedMatmul.Run(q, kt, probs, alpha);
        using (var maskView = attnMask is null ? null : BroadcastMask(attnMask, probs.Shape, shapes))
        {
            var mask = maskView is null ? default : new AttentionMask(maskView.DataPtr, BatchedMatmul.BatchOffsets(maskView, batch), maskView.Strides[^2], maskView.Strides[^1]);
            AttentionSoftmax.Forward(probs.DataPtr, batchCount, l, s, mask, isCausal);
        }
        var output = Tensor.Empty([.. batch, l, ev]);
        BatchedMatmul.Run(probs, v, output);

        var inputs = attnMask is null ? new[] { q, k, v } : new[] { q, k, v, attnMask };
        if (!Autograd.ShouldRecord(inputs))
        {
            probs.Dispose();
            return output;
        }
        int[] qShape = q.Shape, kShape = k.Shape, vShape = v.Shape;
        return Autograd.Record(output, "ScaledDotProductAttentionBackward", inputs, g =>
        {
            var grads = new Tensor?[inputs.Length];
            if (v.RequiresGrad)
            {
                // dv = pᵀ·g
                using var pt = probs.Transpose(-1, -2);
                var full = Tensor.Empty([.. batch, s, ev]);
                BatchedMatmul.Run(pt, g, full);
                grads[2] = Torch.SumToAndRelease(full, vShape);
            }
            bool maskGrad = attnMask is not null && attnMask.RequiresGrad;
            if (!q.RequiresGrad && !k.RequiresGrad && !maskGrad)
            {
                probs.Dispose();
                return grads;
            }

            // dscores = p ⊙ (g·vᵀ − rowsum(p ⊙ g·vᵀ)), the gradient of the scaled, masked scores.
            var dScores = Tensor.Empty([.. batch, l, s]);
            using (var vt = v.Transpose(-1, -2)) BatchedMatmul.Run(g, vt, dScores);
            AttentionSoftmax.Backward(probs.DataPtr, dScores.DataPtr, batchCount * l, s);
            if (q.RequiresGrad)
            {
                var full = Tensor.Empty([.. batch, l, e]);
                BatchedMatmul.Run(dScores, k, full, alpha);
                grads[0] = Torch.SumToAndRelease(full, qShape);
            }
            if (k.RequiresGrad)
            {
                using var dst = dScores.Transpose(-1, -2);
                var full = Tensor.Empty([.. batch, s, e]);
                BatchedMatmul.Run(dst, q, full, alpha);
                grads[1] = Torch.SumToAndRelease(full, kShape);
            }
            if (maskGrad) grads[3] = Torch.SumToAndRelease(dScores, attnMask!.Shape);
            else dScores.Dispose();
            // A node runs backward once; the saved probabilities can go now rather than when the scope closes.
            probs.Dispose();
            return grads;
        });
    }

    private static Tensor BroadcastMask(Tensor mask, int[] scoresShape, string shapes)
    {
        using var detached = mask.Detach();
        try { return detached.Expand(scoresShape); }
        catch (ArgumentException)
        {
            throw new ArgumentException($"ScaledDotProductAttention: attnMask of shape {ShapeUtil.Format(mask.Shape)} does not broadcast to the scores' {ShapeUtil.Format(scoresShape)} ({shapes}).");
        }
    }
}
