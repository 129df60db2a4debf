using CrossDistill.Engine.Nn;
using CrossDistill.Engine.Optim;
using CrossDistill.Engine.Tests.Determinism;

namespace CrossDistill.Engine.Tests.Nn;

/// <summary>Generated classification problems that small models must learn to (near) perfect training accuracy.</summary>
internal static class ToyData
{
    /// <summary>
    /// <paramref name="classes"/> Gaussian blobs in <paramref name="dims"/> dimensions: class centres
    /// are random points at distance ≈ 3·√dims from each other; points have unit spread.
    /// </summary>
    public static (Tensor X, Tensor Y) Blobs(int perClass, int classes, int dims, Generator g)
    {
        var centres = new float[classes, dims];
        for (int c = 0; c < classes; c++)
            for (int d = 0; d < dims; d++) centres[c, d] = (float)(2.2 * g.NextNormal());
        int n = perClass * classes;
        var x = new float[n * dims];
        var y = new long[n];
        for (int i = 0; i < n; i++)
        {
            int c = i % classes;
            y[i] = c;
            for (int d = 0; d < dims; d++) x[i * dims + d] = centres[c, d] + (float)g.NextNormal();
        }
        return (Torch.FromArray(x, n, dims), Torch.FromArray(y, n));
    }

    /// <summary>
    /// 1×<paramref name="size"/>×<paramref name="size"/> noisy images of four shapes at random
    /// places: a horizontal bar, a vertical bar, a diagonal stroke and a hollow square.
    /// </summary>
    public static (Tensor X, Tensor Y) Shapes(int count, int size, Generator g)
    {
        var x = new float[count * size * size];
        var y = new long[count];
        for (int i = 0; i < count; i++)
        {
            int c = i % 4;
            y[i] = c;
            int origin = i * size * size;
            for (int p = 0; p < size * size; p++) x[origin + p] = (float)(0.3 * g.NextNormal());
            int r = g.NextInt(size - 4), col = g.NextInt(size - 4);
            void Set(int rr, int cc) => x[origin + rr * size + cc] += 1.5f;
            switch (c)
            {
                case 0: for (int k = 0; k < 5; k++) Set(r + 2, col + k); break;
                case 1: for (int k = 0; k < 5; k++) Set(r + k, col + 2); break;
                case 2: for (int k = 0; k < 5; k++) Set(r + k, col + k); break;
                default:
                    for (int k = 0; k < 4; k++) { Set(r, col + k); Set(r + 3, col + k + 1); Set(r + k + 1, col); Set(r + k, col + 4); }
                    break;
            }
        }
        return (Torch.FromArray(x, count, 1, size, size), Torch.FromArray(y, count));
    }

    public static Sequential Mlp(int inputs, int hidden, int classes) =>
        new(new Linear(inputs, hidden), new ReLU(), new Linear(hidden, hidden), new ReLU(), new Linear(hidden, classes));

    /// <summary>Conv-BN-ReLU-pool twice, global average pooling and a linear head.</summary>
    public static Sequential Cnn(int classes) => new(
        new Conv2d(1, 8, 3, padding: 1), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
        new Conv2d(8, 16, 3, padding: 1), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
        new AdaptiveAvgPool2d(1), new Flatten(), new Linear(16, classes));

    /// <summary>The fraction of rows of <paramref name="x"/> the model classifies correctly, in eval mode.</summary>
    public static double Accuracy(Module<Tensor, Tensor> model, Tensor x, Tensor y)
    {
        model.Eval();
        try
        {
            using var scope = DisposeScope.Enter();
            using var _ = GradMode.NoGrad();
            var predicted = model.Call(x).Argmax(1).ToLongArray();
            var labels = y.ToLongArray();
            return predicted.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;
        }
        finally
        {
            model.Train();
        }
    }

    /// <summary>One optimisation step on the rows <paramref name="batch"/> of the data set; returns the loss.</summary>
    public static float Step(Module<Tensor, Tensor> model, Optimizer optimizer, Tensor x, Tensor y, long[] batch)
    {
        using var scope = DisposeScope.Enter();
        var index = Torch.FromArray(batch, batch.Length);
        optimizer.ZeroGrad();
        var loss = F.CrossEntropy(model.Call(Torch.IndexSelect(x, 0, index)), Torch.IndexSelect(y, 0, index));
        loss.Backward();
        optimizer.Step();
        return loss.Item();
    }

    /// <summary>Shuffled mini-batches of an epoch (the last one may be smaller).</summary>
    public static IEnumerable<long[]> Batches(int n, int batchSize, Generator g)
    {
        var order = g.Permutation(n);
        for (int start = 0; start < n; start += batchSize)
            yield return order.Skip(start).Take(batchSize).Select(i => (long)i).ToArray();
    }

    /// <summary>Every parameter and buffer, bit for bit.</summary>
    public static Dictionary<string, long[]> Bits(Module model) => model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.DType == DType.Int64
        ? kv.Value.ToLongArray()
        : kv.Value.ToArray().Select(v => (long)BitConverter.SingleToUInt32Bits(v)).ToArray());
}

/// <summary>
/// Small models train to near 100 % training accuracy with SGD and AdamW, deterministically. Each
/// run takes about a second (the CNN, 72 steps, 1–3 s in a Debug build on a busy machine); there
/// is no wall-clock assertion, which would fail spuriously while other tests share the cores.
/// </summary>
public class TrainingTests
{
    private static (double Accuracy, Dictionary<string, long[]> Weights, float FirstLoss, float LastLoss) TrainMlp(ulong seed, int epochs)
    {
        using var scope = DisposeScope.Enter();
        Torch.ManualSeed(seed);
        var g = new Generator(seed);
        var (x, y) = ToyData.Blobs(perClass: 64, classes: 5, dims: 6, g);
        using var model = ToyData.Mlp(6, 32, 5);
        using var optimizer = new AdamW(model.Parameters(), lr: 0.01, weightDecay: 0.01);
        float first = float.NaN, last = float.NaN;
        for (int epoch = 0; epoch < epochs; epoch++)
            foreach (var batch in ToyData.Batches(x.Shape[0], 32, g))
            {
                last = ToyData.Step(model, optimizer, x, y, batch);
                if (float.IsNaN(first)) first = last;
            }
        return (ToyData.Accuracy(model, x, y), ToyData.Bits(model), first, last);
    }

    private static (double Accuracy, Dictionary<string, long[]> Weights, float FirstLoss, float LastLoss) TrainCnn(ulong seed, int epochs)
    {
        using var scope = DisposeScope.Enter();
        Torch.ManualSeed(seed);
        var g = new Generator(seed);
        var (x, y) = ToyData.Shapes(count: 192, size: 12, g);
        using var model = ToyData.Cnn(4);
        using var optimizer = new SGD(model.Parameters(), lr: 0.05, momentum: 0.9, weightDecay: 1e-4);
        float first = float.NaN, last = float.NaN;
        for (int epoch = 0; epoch < epochs; epoch++)
            foreach (var batch in ToyData.Batches(x.Shape[0], 32, g))
            {
                last = ToyData.Step(model, optimizer, x, y, batch);
                if (float.IsNaN(first)) first = last;
            }
        return (ToyData.Accuracy(model, x, y), ToyData.Bits(model), first, last);
    }

    [Fact]
    public void MlpWithAdamWLearnsGaussianBlobs()
    {
        var (accuracy, _, first, last) = TrainMlp(seed: 21, epochs: 30);
        Assert.True(accuracy >= 0.98, $"training accuracy {accuracy:P1} (loss {first} → {last})");
        Assert.True(last < 0.2f * first, $"the loss went from {first} to {last}");
    }

    [Fact]
    public void CnnWithSgdLearnsShapes()
    {
        var (accuracy, _, first, last) = TrainCnn(seed: 5, epochs: 12);
        Assert.True(accuracy >= 0.98, $"training accuracy {accuracy:P1} in eval mode (loss {first} → {last})");
        Assert.True(last < 0.05f * first, $"the loss went from {first} to {last}");
    }

    [Fact]
    public void TheSameSeedGivesBitIdenticalWeights()
    {
        var mlp = (TrainMlp(seed: 3, epochs: 3).Weights, TrainMlp(seed: 3, epochs: 3).Weights);
        Assert.Equal(mlp.Item1, mlp.Item2);
        var cnn = (TrainCnn(seed: 4, epochs: 2).Weights, TrainCnn(seed: 4, epochs: 2).Weights);
        Assert.Equal(cnn.Item1, cnn.Item2);
        // and the comparison can tell runs apart
        Assert.NotEqual(cnn.Item1["0.weight"], TrainCnn(seed: 6, epochs: 2).Weights["0.weight"]);
    }
}

/// <summary>Training steps of the small CNN, each in a disposal scope, leave no memory behind.</summary>
[Collection(SerialCollection.Name)]
public class CnnTrainingMemoryTests
{
    [Fact]
    public void TwoThousandStepsKeepMemoryFlat()
    {
        // Finalizers of tensors other tests leaked would return memory at random moments.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();

        using var data = DisposeScope.Enter();
        Torch.ManualSeed(8);
        var g = new Generator(8);
        var (x, y) = ToyData.Shapes(count: 64, size: 8, g);
        using var model = ToyData.Cnn(4);
        using var optimizer = new AdamW(model.Parameters(), lr: 0.003);
        var batches = ToyData.Batches(64, 8, g).ToArray();

        long baseline = -1;
        for (int step = 0; step < 2000; step++)
        {
            ToyData.Step(model, optimizer, x, y, batches[step % batches.Length]);
            long inUse = MemoryPool.BytesInUse;
            if (step == 0) baseline = inUse;
            else Assert.True(inUse == baseline, $"step {step + 1}: {inUse} bytes in use, {baseline} after step 1");
        }
        Assert.True(ToyData.Accuracy(model, x, y) >= 0.9);
    }
}
