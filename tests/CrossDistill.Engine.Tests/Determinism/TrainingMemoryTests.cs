using CrossDistill.Engine.Nn;
using CrossDistill.Engine.Optim;
using CrossDistill.Engine.Optim.Schedules;
using CrossDistill.Engine.Tests.Nn;

namespace CrossDistill.Engine.Tests.Determinism;

/// <summary>A training loop in which every step runs in a disposal scope must not grow memory.</summary>
[Collection(SerialCollection.Name)]
public class TrainingMemoryTests
{
    /// <summary>Σ_k x[:, k]·w[k] + b: a one-output linear head from mul and sum.</summary>
    private sealed class WeightedSum : Module<Tensor, Tensor>
    {
        private readonly Tensor _weight, _bias;

        public WeightedSum(int features, Generator g)
        {
            _weight = RegisterParameter("weight", Init.Uniform_(Torch.Empty(features), -0.5, 0.5, g));
            _bias = RegisterParameter("bias", Torch.Zeros(1));
        }

        public override Tensor Forward(Tensor input) => (input * _weight).Sum(1) + _bias;
    }

    [Fact]
    public void TwoThousandStepsKeepMemoryFlatAndLearn()
    {
        // Finalizers of tensors other tests leaked would return memory at random moments.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();

        var g = new Generator(17);
        using var data = DisposeScope.Enter();
        var x = Torch.Randn(new[] { 64, 8 }, g);
        var y = (F.Relu(x * Torch.Randn(new[] { 8 }, g) + 0.1f) * Torch.Randn(new[] { 8 }, g)).Sum(1) + 0.5f;

        var affine = new Scale(8);
        Init.Uniform_(affine.Weight, 0.5, 1.5, g);
        using var model = new Sequential(("affine", affine), ("act", new ReluLayer()), ("head", new WeightedSum(8, g)));
        using var optimizer = new AdamW(ParamGroups.SplitDecay(model.NamedParameters(), 1e-4), lr: 0.03);
        var schedule = new CosineWithWarmup(optimizer, warmupSteps: 50, totalSteps: 2000, minLr: 1e-4, warmupStartFactor: 0.1);

        long baseline = -1;
        float first = float.NaN, last = float.NaN;
        for (int step = 0; step < 2000; step++)
        {
            using (DisposeScope.Enter())
            {
                optimizer.ZeroGrad();
                var d = model.Call(x) - y;
                var loss = (d * d).Mean() + 0.01f * (affine.Weight * 0.1f).Exp().Mean();
                loss.Backward();
                GradClip.ClipGradNorm(model.Parameters(), maxNorm: 5.0);
                optimizer.Step();
                schedule.Step();
                last = loss.Item();
                if (step == 0) first = last;
            }
            long inUse = MemoryPool.BytesInUse;
            if (step == 0) baseline = inUse;
            else Assert.True(inUse == baseline, $"step {step + 1}: {inUse} bytes in use, {baseline} after step 1");
        }
        optimizer.ZeroGrad();
        Assert.True(last < 0.1f * first, $"the loss went from {first} to {last}");
    }
}
