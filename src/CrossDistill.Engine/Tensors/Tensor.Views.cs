namespace CrossDistill.Engine;

// Views share storage with their base and record how to route gradients back to it.
public sealed partial class Tensor
{
    /// <summary>Same data, new shape (one entry may be -1). Needs a contiguous tensor, like torch.view.</summary>
    public Tensor View(params int[] shape)
    {
        var newShape = ShapeUtil.InferShape(shape, Numel);
        if (!IsContiguous) throw new InvalidOperationException($"View({ShapeUtil.Format(shape)}) needs a contiguous tensor (shape {ShapeUtil.Format(Shape)}, strides {ShapeUtil.Format(Strides)}); use Reshape().");
        var oldShape = Shape;
        var result = ViewOf(newShape, ShapeUtil.ContiguousStrides(newShape), Offset);
        return Autograd.Record(result, "ViewBackward", new[] { this }, g => new[] { g.Reshape(oldShape) });
    }

    /// <summary>Like <see cref="View"/>, copying first when the layout does not allow a view.</summary>
    public Tensor Reshape(params int[] shape) => IsContiguous ? View(shape) : Contiguous().View(shape);

    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = ShapeUtil.NormalizeDim(startDim, Rank), e = ShapeUtil.NormalizeDim(endDim, Rank);
        if (s > e) throw new ArgumentException($"Flatten: start dim {startDim} comes after end dim {endDim}.");
        var shape = new List<int>();
        for (int i = 0; i < s; i++) shape.Add(Shape[i]);
        int merged = 1;
        for (int i = s; i <= e; i++) merged *= Shape[i];
        shape.Add(merged);
        for (int i = e + 1; i < Rank; i++) shape.Add(Shape[i]);
        return Reshape(shape.ToArray());
    }

    public Tensor Permute(params int[] dims)
    {
        if (dims.Length != Rank) throw new ArgumentException($"Permute needs {Rank} dims, got {dims.Length}.");
        var shape = new int[Rank];
        var strides = new int[Rank];
        var inverse = new int[Rank];
        var seen = new bool[Rank];
        for (int i = 0; i < Rank; i++)
        {
            int d = ShapeUtil.NormalizeDim(dims[i], Rank);
            if (seen[d]) throw new ArgumentException($"Permute: dimension {d} repeated in ({string.Join(", ", dims)}).");
            seen[d] = true;
            shape[i] = Shape[d];
            strides[i] = Strides[d];
            inverse[d] = i;
        }
        var result = ViewOf(shape, strides, Offset);
        return Autograd.Record(result, "PermuteBackward", new[] { this }, g => new[] { g.Permute(inverse) });
    }

    public Tensor Transpose(int dim0, int dim1)
    {
        var dims = Enumerable.Range(0, Rank).ToArray();
        int a = ShapeUtil.NormalizeDim(dim0, Rank), b = ShapeUtil.NormalizeDim(dim1, Rank);
        (dims[a], dims[b]) = (dims[b], dims[a]);
        return Permute(dims);
    }

    /// <summary>The transpose of a matrix (rank 2), or of the last two dims.</summary>
    public Tensor T => Rank < 2 ? this : Transpose(-2, -1);

    /// <summary>Elements [start, start+length) along <paramref name="dim"/>, without copying.</summary>
    public Tensor Narrow(int dim, int start, int length)
    {
        int d = ShapeUtil.NormalizeDim(dim, Rank);
        if (start < 0) start += Shape[d];
        if (start < 0 || length < 0 || start + length > Shape[d])
            throw new ArgumentOutOfRangeException(nameof(start), $"Narrow({dim}, {start}, {length}) is out of range for size {Shape[d]}.");
        var shape = (int[])Shape.Clone();
        shape[d] = length;
        var inputShape = Shape;
        var result = ViewOf(shape, (int[])Strides.Clone(), Offset + start * Strides[d]);
        return Autograd.Record(result, "NarrowBackward", new[] { this }, g =>
        {
            var full = Torch.Zeros(inputShape);
            full.Narrow(d, start, length).CopyFrom(g);
            return new[] { full };
        });
    }

    /// <summary>Python-style slice along one dim: [start:end:step] (negative indices count from the end).</summary>
    public Tensor Slice(int dim, int start, int end, int step = 1)
    {
        int d = ShapeUtil.NormalizeDim(dim, Rank);
        int size = Shape[d];
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), "Slice step must be positive.");
        if (start < 0) start += size;
        if (end < 0) end += size;
        start = Math.Clamp(start, 0, size);
        end = Math.Clamp(end, start, size);
        if (step == 1) return Narrow(d, start, end - start);
        var shape = (int[])Shape.Clone();
        var strides = (int[])Strides.Clone();
        shape[d] = (end - start + step - 1) / step;
        strides[d] *= step;
        var inputShape = Shape;
        var result = ViewOf(shape, strides, Offset + start * Strides[d]);
        return Autograd.Record(result, "SliceBackward", new[] { this }, g =>
        {
            var full = Torch.Zeros(inputShape);
            full.Slice(d, start, end, step).CopyFrom(g);
            return new[] { full };
        });
    }

    /// <summary>The sub-tensor at <paramref name="index"/> along <paramref name="dim"/>, with that dim removed.</summary>
    public Tensor Select(int dim, int index)
    {
        int d = ShapeUtil.NormalizeDim(dim, Rank);
        if (index < 0) index += Shape[d];
        return Narrow(d, index, 1).Squeeze(d);
    }

    /// <summary>Broadcasts size-1 dims (and new leading dims) to <paramref name="shape"/> with stride 0; -1 keeps a size.</summary>
    public Tensor Expand(params int[] shape)
    {
        if (shape.Length < Rank) throw new ArgumentException($"Expand to {ShapeUtil.Format(shape)}: fewer dims than the tensor's {ShapeUtil.Format(Shape)}.");
        int lead = shape.Length - Rank;
        var newShape = new int[shape.Length];
        var strides = new int[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            if (i < lead)
            {
                if (shape[i] < 0) throw new ArgumentException($"Expand: -1 is not allowed for a new leading dim in {ShapeUtil.Format(shape)}.");
                newShape[i] = shape[i];
                strides[i] = 0;
                continue;
            }
            int own = Shape[i - lead];
            int want = shape[i] == -1 ? own : shape[i];
            if (own == want) { newShape[i] = own; strides[i] = Strides[i - lead]; }
            else if (own == 1) { newShape[i] = want; strides[i] = 0; }
            else throw new ArgumentException($"Cannot expand {ShapeUtil.Format(Shape)} to {ShapeUtil.Format(shape)} (dimension {i}).");
        }
        if (newShape.AsSpan().SequenceEqual(Shape)) return Alias();
        var inputShape = Shape;
        var result = ViewOf(newShape, strides, Offset);
        return Autograd.Record(result, "ExpandBackward", new[] { this }, g => new[] { g.SumTo(inputShape) });
    }

    public Tensor BroadcastTo(params int[] shape) => Expand(shape);

    /// <summary>A new tensor object over the same data (so disposing one does not affect the other).</summary>
    public Tensor Alias()
    {
        var result = ViewOf((int[])Shape.Clone(), (int[])Strides.Clone(), Offset);
        return Autograd.Record(result, "AliasBackward", new[] { this }, g => new[] { g });
    }

    public Tensor Squeeze(int dim)
    {
        int d = ShapeUtil.NormalizeDim(dim, Rank);
        if (Shape[d] != 1) return Alias();
        var shape = Shape.Where((_, i) => i != d).ToArray();
        var strides = Strides.Where((_, i) => i != d).ToArray();
        var inputShape = Shape;
        var result = ViewOf(shape, strides, Offset);
        return Autograd.Record(result, "SqueezeBackward", new[] { this }, g => new[] { g.Reshape(inputShape) });
    }

    /// <summary>Removes every size-1 dim.</summary>
    public Tensor Squeeze()
    {
        var shape = Shape.Where(s => s != 1).ToArray();
        var strides = Strides.Where((_, i) => Shape[i] != 1).ToArray();
        var inputShape = Shape;
        var result = ViewOf(shape, strides, Offset);
        return Autograd.Record(result, "SqueezeBackward", new[] { this }, g => new[] { g.Reshape(inputShape) });
    }

    public Tensor Unsqueeze(int dim)
    {
        int d = ShapeUtil.NormalizeDim(dim, Rank + 1);
        var shape = new List<int>(Shape);
        var strides = new List<int>(Strides);
        int stride = d < Rank ? Shape[d] * Strides[d] : 1;
        shape.Insert(d, 1);
        strides.Insert(d, stride);
        var result = ViewOf(shape.ToArray(), strides.ToArray(), Offset);
        return Autograd.Record(result, "UnsqueezeBackward", new[] { this }, g => new[] { g.Squeeze(d) });
    }

    /// <summary>A row-major copy, or an alias when already contiguous.</summary>
    public Tensor Contiguous() => IsContiguous ? Alias() : CopyToLayout(ShapeUtil.ContiguousStrides(Shape));

    /// <summary>A copy stored NHWC (PyTorch's channels_last), or an alias when already so.</summary>
    public Tensor ContiguousChannelsLast() => IsChannelsLast ? Alias() : CopyToLayout(ShapeUtil.ChannelsLastStrides(Shape));

    /// <summary>A copy with its own storage, keeping a dense layout.</summary>
    public Tensor Clone() => CopyToLayout(IsDense ? DenseStridesOf(this) : ShapeUtil.ContiguousStrides(Shape));

    private Tensor CopyToLayout(int[] strides)
    {
        var result = Empty((int[])Shape.Clone(), strides, DType);
        Kernels.StridedCopy.Copy(this, result);
        return Autograd.Record(result, "CopyBackward", new[] { this }, g => new[] { g });
    }

    /// <summary>A tensor sharing data with this one but cut from the graph (torch.detach).</summary>
    public Tensor Detach() => ViewOf((int[])Shape.Clone(), (int[])Strides.Clone(), Offset);

    /// <summary>Copies <paramref name="src"/> (broadcast to this shape) into this tensor, in place and unrecorded.</summary>
    public Tensor CopyFrom(Tensor src)
    {
        if (src.Shape.AsSpan().SequenceEqual(Shape)) Kernels.StridedCopy.Copy(src, this);
        else
        {
            using var detached = src.Detach();
            using var expanded = detached.Expand(Shape);
            Kernels.StridedCopy.Copy(expanded, this);
        }
        return this;
    }
}
