using CrossDistill.Engine.Optim;
using CrossDistill.TestSupport;

namespace CrossDistill.Engine.Tests.Optim;

/// <summary>SGD and AdamW against PyTorch 1.13 trajectories: parameters after every step and the final state.</summary>
public class OptimizerParityTests
{
    public static IEnumerable<object[]> Cases => OptimFixture.Cases("optimizer");

    [Theory]
    [MemberData(nameof(Cases))]
    public void FollowsPyTorchWithItsGradients(string name) => Run(name, storedGradients: true, channelsLast: false);

    [Theory]
    [MemberData(nameof(Cases))]
    public void FollowsPyTorchWithAChannelsLastParameter(string name) => Run(name, storedGradients: true, channelsLast: true);

    [Theory]
    [MemberData(nameof(Cases))]
    public void FollowsPyTorchWithGradientsFromAutograd(string name) => Run(name, storedGradients: false, channelsLast: false, rtol: 1e-5f);

    private static void Run(string name, bool storedGradients, bool channelsLast, float rtol = 1e-5f)
    {
        var spec = OptimFixture.Spec(name);
        var frozen = OptimFixture.Frozen(spec);
        var ps = OptimFixture.NewParameters(channelsLast);
        using var optimizer = OptimFixture.NewOptimizer(spec, ps);
        try
        {
            for (int step = 0; step < OptimFixture.Steps; step++)
            {
                using var scope = DisposeScope.Enter();
                optimizer.ZeroGrad();
                if (storedGradients) OptimFixture.SetStoredGradients(name, ps, step);
                else OptimFixture.BackpropagateLoss(ps, frozen);
                optimizer.Step();
                for (int i = 0; i < ps.Length; i++)
                    TensorAssert.Close(OptimFixture.Get($"{name}.traj.p{i}").Select(0, step), ps[i], rtol, 1e-6f, $"{name}: p{i} after step {step + 1}");
            }
            Assert.Equal(channelsLast, ps[2].IsChannelsLast && !ps[2].IsContiguous);

            var state = optimizer.StateDict();
            var expectedKeys = OptimFixture.Keys.Where(k => k.StartsWith(name + ".state.", StringComparison.Ordinal)).Select(k => k[(name.Length + 1)..]).Order().ToArray();
            Assert.Equal(expectedKeys, state.Tensors.Keys.Order().ToArray());
            foreach (var key in expectedKeys)
                TensorAssert.Close(OptimFixture.Get($"{name}.{key}"), state.Tensors[key], rtol * 10, 1e-6f, $"{name}: {key}");
            var steps = spec.GetProperty("state_steps").EnumerateObject().ToDictionary(p => $"state.{p.Name}.step", p => p.Value.GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(steps.OrderBy(kv => kv.Key), state.Metadata.Where(kv => kv.Key.EndsWith(".step", StringComparison.Ordinal)).OrderBy(kv => kv.Key));
        }
        finally
        {
            OptimFixture.DisposeAll(ps);
        }
    }
}
